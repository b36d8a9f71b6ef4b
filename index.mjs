// ESM entry: the same class as index.js, so `import Peer from 'simple-peer-native'` and
// `require('simple-peer-native')` share one implementation and one native binding.
import Peer from './index.js'

export default Peer
export const { MediaStream, MediaStreamTrack, readMediaFile, nonstandard } = Peer
