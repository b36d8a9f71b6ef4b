// The ESM entry's types, resolved through package.json's exports map.
import Peer from 'simple-peer-native'

const peer: Peer = new Peer({ initiator: true, config: { iceServers: [] } })
peer.on('connect', () => peer.send('hi'))
const support: boolean = Peer.WEBRTC_SUPPORT
export { support }
import { MediaStream, MediaStreamTrack, readMediaFile } from 'simple-peer-native'
const track = new MediaStreamTrack({ kind: 'video', codec: 'h264' })
const stream = new MediaStream([track])
export { stream, readMediaFile }
