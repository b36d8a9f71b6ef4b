/// <reference types="node" />
import { Duplex, DuplexOptions } from 'stream'

declare namespace Peer {
  type SignalData =
    | { type: 'offer' | 'answer' | 'pranswer' | 'rollback', sdp: string }
    | { type: 'candidate', candidate: { candidate: string, sdpMLineIndex?: number | null, sdpMid?: string | null } }
    | { type: 'renegotiate', renegotiate: true }
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
    stream?: unknown
    streams?: unknown[]
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
    | 'ERR_ADD_TRANSCEIVER' | 'ERR_SENDER_REMOVED' | 'ERR_SENDER_ALREADY_ADDED'
    | 'ERR_TRACK_NOT_ADDED' | 'ERR_UNSUPPORTED_REPLACETRACK' | 'ERR_REMOVE_TRACK'
    | 'ERR_INVALID_ARG_TYPE' | 'ERR_INTERNAL'

  interface PeerError extends Error {
    code: ErrorCode
  }

  type SendData = string | Buffer | ArrayBuffer | ArrayBufferView

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

  signal (data: string | Peer.SignalData): void
  send (data: Peer.SendData): void
  negotiate (): void
  addTransceiver (kind: string, init?: object): void
  destroy (err?: Error): this
  getStats (cb: (err: Error | null, reports?: Array<{ id: string, type: string, [key: string]: unknown }>) => void): void
  address (): { port: number | undefined, family: string | undefined, address: string | undefined }

  on (event: 'signal', listener: (data: Peer.SignalData) => void): this
  on (event: 'connect' | 'close' | 'negotiated' | 'iceTimeout', listener: () => void): this
  on (event: 'data', listener: (data: any) => void): this
  on (event: 'error', listener: (err: Peer.PeerError) => void): this
  on (event: 'iceStateChange', listener: (iceConnectionState: string, iceGatheringState: string) => void): this
  on (event: 'signalingStateChange', listener: (signalingState: string) => void): this
  on (event: string | symbol, listener: (...args: any[]) => void): this
}

export = Peer
