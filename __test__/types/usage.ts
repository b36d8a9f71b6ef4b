// Compiled by `tsc -p __test__/types` (npm run lint): every option, method, property, event
// and error code of index.d.ts, written the way code against @types/simple-peer uses them.
import SimplePeer = require('simple-peer-native')
import { Duplex } from 'stream'

const options: SimplePeer.Options = {
  initiator: true,
  channelConfig: { ordered: false, maxRetransmits: 3, maxPacketLifeTime: undefined, protocol: 'p', negotiated: true, id: 5 },
  channelName: 'chat',
  config: { iceServers: [{ urls: 'stun:127.0.0.1:3478' }, { urls: ['turn:127.0.0.1'], username: 'u', credential: 'c' }], iceTransportPolicy: 'all' },
  offerOptions: { iceRestart: false },
  answerOptions: {},
  sdpTransform: function (this: SimplePeer.Instance, sdp: string) { return this.initiator ? sdp : sdp.trim() },
  stream: undefined,
  streams: [],
  trickle: true,
  allowHalfTrickle: false,
  wrtc: undefined,
  objectMode: false,
  iceCompleteTimeout: 5000,
  allowHalfOpen: false,
  highWaterMark: 16384,
  native: {
    bindAddresses: ['0.0.0.0:0', '10.0.0.5'],
    portRange: { min: 40000, max: 40100 },
    udpMuxPort: 3478,
    nat1to1Ips: ['203.0.113.9', '198.51.100.2/10.0.0.5'],
    includeLoopback: true,
    maxMessageSize: 65536,
    iceDisconnectedTimeout: 5000,
    iceFailedTimeout: 25000,
    iceKeepaliveInterval: 2000
  }
}

const peer: SimplePeer.Instance = new SimplePeer(options)
const other = new SimplePeer()
const duplex: Duplex = peer
const factory: SimplePeer.SimplePeer = SimplePeer

const support: boolean = SimplePeer.WEBRTC_SUPPORT
SimplePeer.config = { iceServers: [] }
SimplePeer.channelConfig = {}

const readonlyState: [boolean, boolean, number, string | null] =
  [peer.initiator, peer.connected, peer.bufferSize, peer.channelName]
const lifecycle: [boolean, boolean] = [peer.destroyed, peer.destroying]
const remote: [string | undefined, number | undefined, string | undefined] =
  [peer.remoteAddress, peer.remotePort, peer.remoteFamily]
const local: [string | undefined, number | undefined, string | undefined] =
  [peer.localAddress, peer.localPort, peer.localFamily]
const address: { port: number | undefined, family: string | undefined, address: string | undefined } = peer.address()

peer.on('signal', (data: SimplePeer.SignalData) => {
  other.signal(data)
  other.signal(JSON.stringify(data))
  if (data.type === 'candidate') console.log(data.candidate.candidate)
  if (data.type === 'offer' || data.type === 'answer') console.log(data.sdp.length)
  if (data.type === 'transceiverRequest') console.log(data.transceiverRequest.kind)
  if (data.type === 'renegotiate') console.log(data.renegotiate)
})
peer.on('connect', () => {
  const payloads: SimplePeer.SimplePeerData[] = ['text', Buffer.from('b'), new Uint8Array(2), new ArrayBuffer(4), new DataView(new ArrayBuffer(1))]
  for (const payload of payloads) peer.send(payload)
  peer.write('through the stream')
  peer.end()
})
peer.on('data', (data: Buffer | string) => console.log(data.length))
peer.on('close', () => console.log('closed'))
peer.on('negotiated', () => peer.negotiate())
peer.on('iceTimeout', () => console.log('ice timeout'))
peer.on('iceStateChange', (iceConnectionState: string, iceGatheringState: string) => console.log(iceConnectionState, iceGatheringState))
peer.on('signalingStateChange', (state: string) => console.log(state))
peer.on('error', (err: SimplePeer.PeerError) => {
  const every: Record<SimplePeer.ErrorCode, true> = {
    ERR_WEBRTC_SUPPORT: true,
    ERR_PC_CONSTRUCTOR: true,
    ERR_PC_PEER_IDENTITY: true,
    ERR_CREATE_OFFER: true,
    ERR_CREATE_ANSWER: true,
    ERR_SET_LOCAL_DESCRIPTION: true,
    ERR_SET_REMOTE_DESCRIPTION: true,
    ERR_ADD_ICE_CANDIDATE: true,
    ERR_ICE_CONNECTION_FAILURE: true,
    ERR_ICE_CONNECTION_CLOSED: true,
    ERR_CONNECTION_FAILURE: true,
    ERR_SIGNALING: true,
    ERR_DATA_CHANNEL: true,
    ERR_DESTROYED: true,
    ERR_ADD_TRANSCEIVER: true,
    ERR_ADD_TRACK: true,
    ERR_SENDER_REMOVED: true,
    ERR_SENDER_ALREADY_ADDED: true,
    ERR_TRACK_NOT_ADDED: true,
    ERR_UNSUPPORTED_REPLACETRACK: true,
    ERR_REMOVE_TRACK: true,
    ERR_INVALID_ARG_TYPE: true,
    ERR_INTERNAL: true
  }
  console.log(every[err.code], err.message)
})
peer.on('finish', () => console.log('stream event'))

peer.addTransceiver('video', { direction: 'recvonly' })
peer.getStats((err, reports) => {
  if (err) return console.error(err.message)
  for (const report of reports ?? []) console.log(report.id, report.type)
})
peer.negotiate()
const same: SimplePeer.Instance = peer.destroy(new Error('done'))
other.destroy()

export { duplex, factory, support, readonlyState, lifecycle, remote, local, address, same }

// Media, the simple-peer way, with Node's encoded tracks.
const video = new SimplePeer.MediaStreamTrack({ kind: 'video', codec: 'vp8' })
const audio = new SimplePeer.MediaStreamTrack({ kind: 'audio' })
const camera = new SimplePeer.MediaStream([video, audio])
const withMedia = new SimplePeer({ initiator: true, stream: camera, streams: [camera] })
withMedia.addStream(camera)
withMedia.removeStream(camera)
withMedia.addTrack(video, camera)
withMedia.replaceTrack(video, video.clone(), camera)
withMedia.replaceTrack(video, null, camera)
withMedia.removeTrack(video, camera)
withMedia.addTransceiver('audio', { direction: 'recvonly' })
withMedia.on('stream', (stream: SimplePeer.MediaStream) => console.log(stream.id, stream.active, stream.getVideoTracks().length))
withMedia.on('track', async (track: SimplePeer.MediaStreamTrack, stream: SimplePeer.MediaStream) => {
  track.on('rtp', (packet: Buffer) => console.log(packet.readUInt16BE(2)))
  track.on('frame', (frame: SimplePeer.Frame) => console.log(frame.keyframe, frame.timestamp))
  track.requestKeyFrame()
  track.createReadStream({ rtp: true }).on('data', (packet: Buffer) => console.log(packet.length))
  for await (const frame of track) console.log(frame.data.length, stream.id)
})
async function streamFile (): Promise<void> {
  const file = SimplePeer.readMediaFile('clip.ivf', { realtime: true })
  const codec: SimplePeer.Codec = file.codec
  for await (const sample of file) video.writeSample(sample.data, { duration: sample.duration })
  audio.writeRtp(Buffer.alloc(12))
  console.log(codec, video.readyState, video.enabled, video.remote, video.kind, video.id, video.label, video.muted)
  video.stop()
}
export { streamFile }

// peer._pc, as simple-peer code reaches into it.
async function inspectConnection (instance: SimplePeer.Instance): Promise<void> {
  const pc = instance._pc
  if (pc === null) return
  const state: string = pc.iceConnectionState
  pc.oniceconnectionstatechange = () => console.log(state, pc.connectionState, pc.signalingState)
  pc.addEventListener('track', () => console.log(pc.getReceivers().length, pc.getSenders().length))
  const stats = await pc.getStats()
  stats.forEach(report => console.log(report.type))
  console.log(pc.localDescription?.sdp, pc.getTransceivers()[0]?.sender.track)
  pc.restartIce()
  instance.negotiate()
}
export { inspectConnection }

// Raw media: PCM and I420 through the addon's codecs, and wrtc's nonstandard shapes.
function rawMedia (remote: SimplePeer.MediaStreamTrack): void {
  const voice = new SimplePeer.MediaStreamTrack({ kind: 'audio' })
  const taken: boolean = voice.writePcm(new Int16Array(480), { sampleRate: 24000, channels: 1 })
  const camera = new SimplePeer.MediaStreamTrack({ kind: 'video', codec: 'h264' })
  camera.writeFrame({ width: 2, height: 2, data: new Uint8Array(6) })
  remote.on('pcm', ({ samples, sampleRate, channelCount, numberOfFrames }) => console.log(samples.length, sampleRate, channelCount, numberOfFrames))
  remote.on('i420', picture => console.log(picture.width, picture.height, picture.data.length))
  const reader = remote.createReadStream({ decoded: true })
  console.log(taken, voice.pcmBufferedMs, remote.decodedDropped, reader.dropped)

  const { RTCAudioSource, RTCAudioSink, RTCVideoSource, RTCVideoSink, i420ToRgba } = SimplePeer.nonstandard
  const audioSource = new RTCAudioSource()
  const track: SimplePeer.MediaStreamTrack = audioSource.createTrack()
  audioSource.onData({ samples: new Int16Array(480), sampleRate: 48000, bitsPerSample: 16, channelCount: 1, numberOfFrames: 480 })
  const audioSink = new RTCAudioSink(remote)
  audioSink.ondata = data => console.log(data.samples.length, track.id)
  audioSink.stop()
  const videoSource = new RTCVideoSource()
  videoSource.onFrame({ width: 2, height: 2, data: new Uint8ClampedArray(6) })
  const videoSink = new RTCVideoSink(videoSource.createTrack())
  videoSink.onframe = ({ frame }) => {
    const rgba = { width: frame.width, height: frame.height, data: new Uint8ClampedArray(frame.width * frame.height * 4) }
    i420ToRgba(frame, rgba)
  }
  videoSink.addEventListener('frame', () => videoSink.stop())
}
export { rawMedia }
