/// <reference types="node" />
import { EventEmitter } from 'events'
import { Duplex, DuplexOptions, Readable } from 'stream'

declare namespace Peer {
  type SignalData =
    | { type: 'offer' | 'answer' | 'pranswer' | 'rollback', sdp: string }
    | { type: 'candidate', candidate: { candidate: string, sdpMLineIndex?: number | null, sdpMid?: string | null } }
    | { type: 'renegotiate', renegotiate: true, iceRestart?: true }
    | { type: 'transceiverRequest', transceiverRequest: { kind: string, init?: object } }

  interface IceServer {
    urls: string | string[]
    username?: string
    credential?: string
  }

  interface Config {
    iceServers?: IceServer[]
    iceTransportPolicy?: 'all' | 'relay'
    [key: string]: unknown
  }

  interface ChannelConfig {
    ordered?: boolean
    maxRetransmits?: number
    maxPacketLifeTime?: number
    protocol?: string
    negotiated?: boolean
    id?: number
  }

  /** Non-standard knobs of simple-peer-native. */
  interface NativeOptions {
    /** Local UDP addresses to bind, e.g. ['10.0.0.5:0']; default every IPv4 interface. */
    bindAddresses?: string[]
    /** Bind UDP ports from this inclusive range instead of ephemeral ones. */
    portRange?: { min: number, max: number }
    /** One UDP port shared by every peer of the process (on each bind address). */
    udpMuxPort?: number
    /**
     * Public addresses for host candidates of a server behind 1:1 NAT: ['203.0.113.9'] maps
     * every host candidate, ['203.0.113.9/10.0.0.5'] only those bound to 10.0.0.5.
     */
    nat1to1Ips?: string[]
    /** Also offer loopback candidates (127.0.0.1) when binding every interface. */
    includeLoopback?: boolean
    /** Largest data-channel message in bytes, 16 KiB to 256 KiB (default); smaller saves memory. */
    maxMessageSize?: number
    /** ICE consent timers, in milliseconds. */
    iceDisconnectedTimeout?: number
    iceFailedTimeout?: number
    iceKeepaliveInterval?: number
  }

  interface Options extends DuplexOptions {
    initiator?: boolean
    channelConfig?: ChannelConfig
    channelName?: string
    config?: Config
    offerOptions?: { iceRestart?: boolean, [key: string]: unknown }
    answerOptions?: object
    sdpTransform?: (this: Peer, sdp: string) => string
    stream?: Peer.MediaStream
    streams?: Peer.MediaStream[]
    trickle?: boolean
    allowHalfTrickle?: boolean
    /** Accepted for compatibility and ignored: WebRTC is built in. */
    wrtc?: unknown
    objectMode?: boolean
    iceCompleteTimeout?: number
    native?: NativeOptions
  }

  type ErrorCode =
    | 'ERR_WEBRTC_SUPPORT' | 'ERR_PC_CONSTRUCTOR' | 'ERR_PC_PEER_IDENTITY' | 'ERR_CREATE_OFFER'
    | 'ERR_CREATE_ANSWER' | 'ERR_SET_LOCAL_DESCRIPTION' | 'ERR_SET_REMOTE_DESCRIPTION'
    | 'ERR_ADD_ICE_CANDIDATE' | 'ERR_ICE_CONNECTION_FAILURE' | 'ERR_ICE_CONNECTION_CLOSED'
    | 'ERR_CONNECTION_FAILURE' | 'ERR_SIGNALING' | 'ERR_DATA_CHANNEL' | 'ERR_DESTROYED'
    | 'ERR_ADD_TRANSCEIVER' | 'ERR_ADD_TRACK' | 'ERR_SENDER_REMOVED' | 'ERR_SENDER_ALREADY_ADDED'
    | 'ERR_TRACK_NOT_ADDED' | 'ERR_UNSUPPORTED_REPLACETRACK' | 'ERR_REMOVE_TRACK'
    | 'ERR_INVALID_ARG_TYPE' | 'ERR_INTERNAL'

  interface PeerError extends Error {
    code: ErrorCode
  }

  type SendData = string | Buffer | ArrayBuffer | ArrayBufferView

  /** What `supportedCodecs()` of the addon lists (__test__/unit/media.test.js keeps them equal). */
  type Codec = 'opus' | 'vp8' | 'vp9' | 'h264' | 'av1'

  /** A reassembled frame of a remote track (RTP timestamp; keyframe as the codec marks it). */
  interface Frame {
    data: Buffer
    timestamp: number
    keyframe: boolean
  }

  /** A picture: packed I420 (Y, then U and V at half size) or, for the converters, RGBA. */
  interface I420Frame {
    width: number
    height: number
    data: Uint8Array | Uint8ClampedArray
  }

  /** Raw audio as wrtc's nonstandard API and the 'pcm' event carry it. */
  interface PcmData {
    /** Interleaved 16-bit samples. */
    samples: Int16Array
    sampleRate: number
    bitsPerSample?: 16
    channelCount?: 1 | 2
    /** Samples per channel. */
    numberOfFrames?: number
  }

  /**
   * Media: local tracks are fed with encoded samples, RTP or PCM; remote ones emit packets,
   * frames and, while listened for, decoded PCM.
   */
  class MediaStreamTrack extends EventEmitter {
    constructor (init: { kind: 'audio' | 'video', codec?: Codec, id?: string, label?: string })
    readonly id: string
    readonly kind: 'audio' | 'video'
    /** The track's codec; for a remote track, the negotiated one. */
    codec: string
    label: string
    enabled: boolean
    muted: boolean
    readyState: 'live' | 'ended'
    /** True for tracks that arrived from a peer. */
    readonly remote: boolean
    /** Remote tracks: decoded frames lost because the JS thread had not taken earlier ones. */
    readonly decodedDropped: number
    /** Sends one encoded frame lasting `duration` ms; false when no peer took it. */
    writeSample (data: Buffer | ArrayBufferView | ArrayBuffer, options?: { duration?: number }): boolean
    /** Sends a ready RTP packet (SSRC and payload type are the sender's own). */
    writeRtp (packet: Buffer | ArrayBufferView | ArrayBuffer): boolean
    /**
     * Local audio tracks: sends interleaved PCM at any rate from 8000 Hz, mono or stereo,
     * Opus-encoded natively in real time; false (samples dropped) when over 2 s wait.
     */
    writePcm (samples: Int16Array, options?: { sampleRate?: number, channels?: 1 | 2 }): boolean
    /** Milliseconds of PCM written and not yet sent. */
    readonly pcmBufferedMs: number
    /**
     * Local H264 video tracks: sends a packed I420 picture (BT.601 limited range), encoded
     * natively; false when it replaced one the encoder had not yet taken.
     */
    writeFrame (frame: I420Frame): boolean
    /** Remote video tracks: asks the sender for a keyframe (RTCP PLI). */
    requestKeyFrame (): boolean
    stop (): void
    clone (): MediaStreamTrack
    /**
     * Remote tracks: frames, RTP packets with `{ rtp: true }` or decoded audio with
     * `{ pcm: true }`, as an object-mode Readable whose `dropped` counts what a slow reader lost.
     */
    createReadStream (options?: { rtp?: boolean, decoded?: boolean }): Readable & { dropped: number }
    [Symbol.asyncIterator] (): AsyncIterator<Frame>
    on (event: 'frame', listener: (frame: Frame) => void): this
    on (event: 'rtp', listener: (packet: Buffer) => void): this
    /** Remote audio tracks: decoded 48 kHz PCM, one event per received Opus frame. */
    on (event: 'pcm', listener: (data: Required<PcmData>) => void): this
    /** Remote H264 tracks: each decoded picture, packed I420. */
    on (event: 'i420', listener: (picture: { width: number, height: number, data: Buffer }) => void): this
    on (event: 'ended', listener: () => void): this
    on (event: string | symbol, listener: (...args: any[]) => void): this
  }

  class MediaStream extends EventEmitter {
    constructor (tracks?: MediaStream | MediaStreamTrack[], id?: string)
    readonly id: string
    readonly active: boolean
    getTracks (): MediaStreamTrack[]
    getAudioTracks (): MediaStreamTrack[]
    getVideoTracks (): MediaStreamTrack[]
    getTrackById (id: string): MediaStreamTrack | null
    addTrack (track: MediaStreamTrack): void
    removeTrack (track: MediaStreamTrack): void
    clone (): MediaStream
  }

  interface MediaSample {
    data: Buffer
    /** Milliseconds. */
    duration: number
  }

  /**
   * The samples of an IVF (VP8, VP9, AV1), H264 Annex-B or Ogg Opus file. With `realtime`
   * they come at the pace they play; `fps` times H264 files (default 30).
   */
  /** wrtc's nonstandard raw-media classes. */
  namespace nonstandard {
    class RTCAudioSource {
      createTrack (): MediaStreamTrack
      /** False when the samples were dropped: 2 s are already waiting. */
      onData (data: PcmData): boolean
    }
    class RTCAudioSink extends EventTarget {
      constructor (track: MediaStreamTrack)
      /** 10 ms frames of the track's decoded audio (also a 'data' event). */
      ondata: ((data: Event & Required<PcmData>) => void) | null
      readonly stopped: boolean
      stop (): void
    }
    class RTCVideoSource {
      constructor (init?: { isScreencast?: boolean, needsDenoising?: boolean })
      readonly isScreencast: boolean
      /** An H264 track that sends what onFrame is given. */
      createTrack (): MediaStreamTrack
      /** False when it replaced a frame the encoder had not yet taken. */
      onFrame (frame: I420Frame): boolean
    }
    class RTCVideoSink extends EventTarget {
      constructor (track: MediaStreamTrack)
      /** Each decoded picture of the (H264) track (also a 'frame' event). */
      onframe: ((event: Event & { frame: I420Frame & { rotation: number, data: Uint8ClampedArray } }) => void) | null
      readonly stopped: boolean
      stop (): void
    }
    /** BT.601 limited range, into a caller's { width, height, data } of width * height * 4 bytes. */
    function i420ToRgba (i420: I420Frame, rgba: I420Frame): void
    function rgbaToI420 (rgba: I420Frame, i420: I420Frame): void
  }

  function readMediaFile (path: string, options?: { realtime?: boolean, fps?: number }): AsyncIterable<MediaSample> & { codec: Codec }

  /**
   * `peer._pc`: an RTCPeerConnection-shaped view of the native connection, for code that
   * reaches into simple-peer's `_pc`. null once the peer is destroyed.
   */
  interface PeerConnection extends EventTarget {
    readonly connectionState: string
    readonly iceConnectionState: string
    readonly iceGatheringState: string
    readonly signalingState: string
    readonly localDescription: { type: string, sdp: string } | null
    readonly remoteDescription: { type: string, sdp: string } | null
    readonly currentLocalDescription: { type: string, sdp: string } | null
    readonly currentRemoteDescription: { type: string, sdp: string } | null
    getStats (): Promise<Map<string, { id: string, type: string, [key: string]: unknown }>>
    getSenders (): Array<{ track: MediaStreamTrack | null }>
    getReceivers (): Array<{ track: MediaStreamTrack }>
    getTransceivers (): Array<{ mid: string | null, direction: string, sender: { track: MediaStreamTrack | null }, receiver: { track: MediaStreamTrack | null } }>
    /** The next offer (negotiate() makes one) restarts ICE. */
    restartIce (): void
    close (): void
    onconnectionstatechange: ((event: Event) => void) | null
    oniceconnectionstatechange: ((event: Event) => void) | null
    onicegatheringstatechange: ((event: Event) => void) | null
    onsignalingstatechange: ((event: Event) => void) | null
    onicecandidate: ((event: Event & { candidate: object | null }) => void) | null
    ontrack: ((event: Event & { track: MediaStreamTrack, streams: MediaStream[] }) => void) | null
    ondatachannel: ((event: Event) => void) | null
    onnegotiationneeded: ((event: Event) => void) | null
  }

  /** The names code written against @types/simple-peer uses. */
  type Instance = Peer
  type SimplePeerData = SendData
  type SimplePeer = typeof Peer
}

declare class Peer extends Duplex {
  constructor (opts?: Peer.Options)

  static WEBRTC_SUPPORT: boolean
  static config: Peer.Config
  static channelConfig: Peer.ChannelConfig

  readonly initiator: boolean
  channelName: string | null
  readonly connected: boolean
  readonly bufferSize: number
  destroyed: boolean
  destroying: boolean
  remoteAddress: string | undefined
  remotePort: number | undefined
  remoteFamily: 'IPv4' | 'IPv6' | undefined
  localAddress: string | undefined
  localPort: number | undefined
  localFamily: 'IPv4' | 'IPv6' | undefined
  /** simple-peer's `_pc`, as a compatibility surface: see Peer.PeerConnection. */
  _pc: Peer.PeerConnection | null

  signal (data: string | Peer.SignalData): void
  send (data: Peer.SendData): void
  negotiate (): void
  /**
   * Not in simple-peer: restarts ICE (fresh credentials, new candidate checks) without closing
   * the data channel. On the initiator, the next offer restarts; on the other side, asks the
   * initiator for one (`{ type: 'renegotiate', renegotiate: true, iceRestart: true }`).
   */
  restartIce (): void
  addTransceiver (kind: 'audio' | 'video', init?: { direction?: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive' }): void
  addStream (stream: Peer.MediaStream): void
  removeStream (stream: Peer.MediaStream): void
  addTrack (track: Peer.MediaStreamTrack, stream: Peer.MediaStream): void
  removeTrack (track: Peer.MediaStreamTrack, stream: Peer.MediaStream): void
  replaceTrack (oldTrack: Peer.MediaStreamTrack, newTrack: Peer.MediaStreamTrack | null, stream: Peer.MediaStream): void
  destroy (err?: Error): this
  getStats (cb: (err: Error | null, reports?: Array<{ id: string, type: string, [key: string]: unknown }>) => void): void
  address (): { port: number | undefined, family: string | undefined, address: string | undefined }

  on (event: 'signal', listener: (data: Peer.SignalData) => void): this
  on (event: 'connect' | 'close' | 'negotiated' | 'iceTimeout', listener: () => void): this
  on (event: 'data', listener: (data: any) => void): this
  on (event: 'error', listener: (err: Peer.PeerError) => void): this
  on (event: 'iceStateChange', listener: (iceConnectionState: string, iceGatheringState: string) => void): this
  on (event: 'signalingStateChange', listener: (signalingState: string) => void): this
  on (event: 'track', listener: (track: Peer.MediaStreamTrack, stream: Peer.MediaStream) => void): this
  on (event: 'stream', listener: (stream: Peer.MediaStream) => void): this
  on (event: string | symbol, listener: (...args: any[]) => void): this
}

export = Peer
