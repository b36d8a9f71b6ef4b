//! The data path of one data channel: a send queue that JS fills synchronously, a task that
//! moves it into SCTP at the pace the remote acknowledges, and received messages handed to
//! JS in batches, no faster than JS consumes them.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::sync::{mpsc, Notify};
use webrtc::data_channel::{DataChannel, DataChannelEvent, RTCDataChannelMessage};

use crate::error::NativeError;
use crate::events::{CandidatePair, EventSink, NativeEvent, ReplyValue};
use crate::runtime::PeerRuntime;
use crate::sync::lock;

/// simple-peer's MAX_BUFFERED_AMOUNT: `write()` reports backpressure above this many queued bytes.
pub const WRITE_HIGH_WATER: usize = 64 * 1024;
/// What SCTP may hold unacknowledged follows how fast the remote acknowledges: about this
/// long's worth of its rate, between the two bounds below. See `InFlightLimit`.
const IN_FLIGHT_TIME: Duration = Duration::from_millis(8);
/// About what a browser's UDP receive buffer holds: Chromium asks for 64 KiB, which the
/// kernel fills with ~56 full-size datagrams.
const IN_FLIGHT_MIN: usize = 64 * 1024;
/// Enough to keep a fast path busy (two Node peers on one machine), small enough that memory
/// per peer stays bounded.
const IN_FLIGHT_MAX: usize = 1024 * 1024;
/// The acknowledgement rate is measured over windows of this length.
const RATE_WINDOW: Duration = Duration::from_millis(25);
/// Bytes delivered to JS that JS has not yet acknowledged. Past this the task stops reading
/// the channel, SCTP's receive window closes, and the remote's sends back up.
const RECEIVE_WINDOW: usize = 1024 * 1024;
const BATCH_MAX_BYTES: usize = 256 * 1024;
const BATCH_MAX_MESSAGES: usize = 2048;
/// A message this long reaches JS in the buffer webrtc allocated for it. Joining such
/// messages cost a copy, and joined buffers past glibc's mmap threshold (128 KiB) cost fresh
/// pages for every batch: in perf's samples of a bulk transfer, delivery fell from ~4% to
/// under 1% and page faults from ~5% to ~3%.
const OWN_BUFFER_MIN: usize = 4096;
/// Shorter messages are joined, into buffers of at most this size (below that threshold).
const JOINED_MAX_BYTES: usize = 64 * 1024;
/// SCTP parks messages only once 256 wait undelivered, so a run this long may have left
/// some parked: having taken it, the task asks the driver to resume (see `ReadResume`).
const PARKED_READ_RUN: usize = 128;
/// How often the task re-reads SCTP's outstanding byte count while data is in flight: it is
/// what `bufferSize`, `'drain'` and `flush()` follow between OnBufferedAmountLow events.
const IN_FLIGHT_RECHECK: Duration = Duration::from_millis(5);

/// Looks up the addresses of the candidate pair ICE selected, for the open event: JS
/// announces 'connect' with them at once. A lookup from JS after the event would be a round
/// trip in which the other peer's 'connect' (in the same process) could overtake this one's.
pub type SelectedPair = Box<dyn Fn() -> BoxFuture<'static, Option<CandidatePair>> + Send + Sync>;

pub enum Outgoing {
    Binary(BytesMut),
    Text(String),
    /// Reply to request `id` once everything queued before it has been acknowledged.
    Flush(u32),
}

impl Outgoing {
    fn len(&self) -> usize {
        match self {
            Outgoing::Binary(data) => data.len(),
            Outgoing::Text(text) => text.len(),
            Outgoing::Flush(_) => 0,
        }
    }
}

/// The half of a channel that Node's thread touches. Exists from the peer's creation, so
/// data sent before the channel opens (or even exists) is queued, not lost.
pub struct ChannelShared {
    outbox: mpsc::UnboundedSender<Outgoing>,
    outbox_receiver: Mutex<Option<mpsc::UnboundedReceiver<Outgoing>>>,
    queued: AtomicUsize,
    in_flight: AtomicUsize,
    writable_wanted: AtomicBool,
    unacknowledged: AtomicUsize,
    acknowledged: Notify,
}

impl Default for ChannelShared {
    fn default() -> Self {
        let (outbox, receiver) = mpsc::unbounded_channel();
        Self {
            outbox,
            outbox_receiver: Mutex::new(Some(receiver)),
            queued: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            writable_wanted: AtomicBool::new(false),
            unacknowledged: AtomicUsize::new(0),
            acknowledged: Notify::new(),
        }
    }
}

impl ChannelShared {
    /// Queues a message. Returns whether more may be written now; when it returns false, a
    /// `Writable` event follows once the queue has drained to the low-water mark.
    pub fn send(&self, message: Outgoing) -> bool {
        let total = self.queued.fetch_add(message.len(), Ordering::AcqRel) + message.len();
        if self.outbox.send(message).is_err() {
            return true;
        }
        if total <= WRITE_HIGH_WATER {
            return true;
        }
        self.writable_wanted.store(true, Ordering::SeqCst);
        // The task may have drained the queue between the add and the store above, having
        // seen no one waiting: look again so the writer is never left without an event.
        if self.queued.load(Ordering::SeqCst) <= WRITE_HIGH_WATER {
            self.writable_wanted.store(false, Ordering::SeqCst);
            return true;
        }
        false
    }

    /// Bytes not yet acknowledged by the remote: queued here plus in flight in SCTP.
    pub fn buffered_amount(&self) -> usize {
        self.queued.load(Ordering::Acquire) + self.in_flight.load(Ordering::Acquire)
    }

    /// JS has consumed `bytes` of delivered messages.
    pub fn acknowledge(&self, bytes: usize) {
        let _ = self
            .unacknowledged
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                Some(n.saturating_sub(bytes))
            });
        self.acknowledged.notify_one();
    }

    fn take_outbox(&self) -> Option<mpsc::UnboundedReceiver<Outgoing>> {
        lock(&self.outbox_receiver).take()
    }
}

/// Messages gathered for one crossing into JS. Short ones are joined once, at delivery, into
/// buffers of the exact size: growing one buffer message by message cost a realloc copy and
/// fresh pages at every doubling (~5% of the CPU of a bulk transfer, measured with perf).
#[derive(Default)]
struct Batch {
    messages: Vec<BytesMut>,
    bytes: usize,
    sizes: Vec<u32>,
}

impl Batch {
    fn push(&mut self, message: RTCDataChannelMessage) {
        self.bytes += message.data.len();
        self.sizes
            .push(((message.data.len() as u32) << 1) | u32::from(message.is_string));
        self.messages.push(message.data);
    }

    fn is_full(&self) -> bool {
        self.bytes >= BATCH_MAX_BYTES || self.sizes.len() >= BATCH_MAX_MESSAGES
    }

    /// The buffers JS cuts the messages from, in order: each message of `OWN_BUFFER_MIN`
    /// bytes or more alone, and each run of shorter ones (at most `JOINED_MAX_BYTES`) back
    /// to back. Every piece holds its messages exactly, so JS moves to the next piece when
    /// a message does not fit in the rest of this one (an empty message fits anywhere).
    fn into_pieces(self) -> Vec<Vec<u8>> {
        let mut pieces = Vec::new();
        let mut run = Vec::new();
        let mut run_bytes = 0;
        for message in self.messages {
            if message.len() >= OWN_BUFFER_MIN {
                join_run(&mut run, &mut pieces);
                run_bytes = 0;
                pieces.push(own_buffer(message));
                continue;
            }
            if run_bytes + message.len() > JOINED_MAX_BYTES {
                join_run(&mut run, &mut pieces);
                run_bytes = 0;
            }
            run_bytes += message.len();
            run.push(message);
        }
        join_run(&mut run, &mut pieces);
        pieces
    }
}

fn join_run(run: &mut Vec<BytesMut>, pieces: &mut Vec<Vec<u8>>) {
    if run.len() == 1 {
        pieces.extend(run.pop().map(own_buffer));
    } else if !run.is_empty() {
        let mut joined = Vec::with_capacity(run.iter().map(|message| message.len()).sum());
        for message in run.drain(..) {
            joined.extend_from_slice(&message);
        }
        pieces.push(joined);
    }
}

/// A message's own allocation, unless it holds much more than the message: JS may keep the
/// buffer as long as it keeps the message.
fn own_buffer(message: BytesMut) -> Vec<u8> {
    let mut buffer = Vec::from(message);
    if buffer.capacity() > 2 * buffer.len() {
        buffer.shrink_to_fit();
    }
    buffer
}

/// How much the stream's channel may hand SCTP beyond what the remote has acknowledged.
///
/// rtc-sctp 0.21 resends everything outstanding at once when its retransmission timer
/// fires, ignoring its congestion window. A browser reads its socket through a 64 KiB
/// receive buffer, so a busy one drops most of that burst; the timer backs off (1, 2, 4 ...
/// 60 s) and each round moves only what the buffer held. With a fixed 1 MiB in flight, a
/// 16 MiB write to Chromium on a loaded machine stalled for over a minute; with 64 KiB it
/// never stalled, but two Node peers lost 60% of their throughput. So the limit follows the
/// remote: `IN_FLIGHT_TIME` of the rate it acknowledges at. A window in which data waited
/// and nothing was acknowledged (a retransmission timeout) brings it to the minimum.
struct InFlightLimit {
    limit: usize,
    window_started: Instant,
    acknowledged: usize,
    /// Data waited in our queue at some point of the window: the remote, not the writer,
    /// set the pace, so a low rate says something about the remote.
    held_back: bool,
}

impl InFlightLimit {
    fn new(now: Instant) -> Self {
        Self {
            limit: IN_FLIGHT_MIN,
            window_started: now,
            acknowledged: 0,
            held_back: false,
        }
    }

    /// Notes what a look at SCTP found: `acknowledged` bytes since the last look, and whether
    /// data is waiting. Returns the new limit when it changed.
    fn observe(&mut self, acknowledged: usize, waiting: bool, now: Instant) -> Option<usize> {
        self.acknowledged += acknowledged;
        self.held_back |= waiting;
        let elapsed = now.saturating_duration_since(self.window_started);
        if elapsed < RATE_WINDOW {
            return None;
        }
        let rate = self.acknowledged as f64 / elapsed.as_secs_f64();
        let target =
            ((rate * IN_FLIGHT_TIME.as_secs_f64()) as usize).clamp(IN_FLIGHT_MIN, IN_FLIGHT_MAX);
        // A writer that sent little says nothing about how much more the remote could take.
        let changed = (target > self.limit || (target < self.limit && self.held_back)).then(|| {
            self.limit = target;
            target
        });
        self.restart(now);
        changed
    }

    fn restart(&mut self, now: Instant) {
        self.window_started = now;
        self.acknowledged = 0;
        self.held_back = false;
    }
}

/// SCTP reports OnBufferedAmountLow below this, so the task refills before the pipe empties.
fn low_water(limit: usize) -> u32 {
    (limit / 2) as u32
}

/// Drives one data channel until it closes. The peer's first channel carries the stream both
/// ways. A later one, opened by a remote that is not simple-peer, is read only: its messages
/// join the stream as simple-peer's do (it keeps listening to every channel it has seen), and
/// an unread channel would hold webrtc's reads for the whole connection.
pub async fn run(
    channel: Arc<dyn DataChannel>,
    shared: Arc<ChannelShared>,
    events: EventSink,
    runtime: Arc<PeerRuntime>,
    selected_pair: SelectedPair,
) {
    let outbox = shared.take_outbox();
    let mut pump = Pump {
        channel,
        shared,
        events,
        outbox,
        open: false,
        in_flight_estimate: 0,
        in_flight_limit: InFlightLimit::new(Instant::now()),
        flushes: Vec::new(),
        runtime,
        taken_since_resume: 0,
        selected_pair,
    };
    pump.run().await;
    if pump.outbox.is_some() {
        pump.finish();
    }
}

struct Pump {
    channel: Arc<dyn DataChannel>,
    shared: Arc<ChannelShared>,
    events: EventSink,
    /// None on a read-only channel.
    outbox: Option<mpsc::UnboundedReceiver<Outgoing>>,
    open: bool,
    in_flight_estimate: usize,
    in_flight_limit: InFlightLimit,
    flushes: Vec<u32>,
    runtime: Arc<PeerRuntime>,
    taken_since_resume: usize,
    selected_pair: SelectedPair,
}

impl Pump {
    async fn run(&mut self) {
        let _ = self
            .channel
            .set_buffered_amount_low_threshold(low_water(self.in_flight_limit.limit))
            .await;
        // A channel announced by the remote may already be open when we first see it.
        if matches!(
            self.channel.ready_state().await,
            Ok(webrtc::data_channel::RTCDataChannelState::Open)
        ) {
            self.on_open().await;
        }
        let mut recheck = tokio::time::interval(IN_FLIGHT_RECHECK);
        recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let can_send = self.open
                && self.outbox.is_some()
                && self.in_flight_estimate < self.in_flight_limit.limit;
            let can_read = self.shared.unacknowledged.load(Ordering::Acquire) < RECEIVE_WINDOW;
            let tracking = self.in_flight_estimate > 0 || !self.flushes.is_empty();
            tokio::select! {
                event = self.channel.poll(), if can_read => {
                    match event {
                        Some(event) => if !self.on_event(event).await { return },
                        None => return,
                    }
                }
                message = next_outgoing(&mut self.outbox), if can_send => {
                    match message {
                        Some(message) => self.send_queued(message).await,
                        None => return,
                    }
                }
                _ = self.shared.acknowledged.notified(), if !can_read => {}
                _ = recheck.tick(), if tracking => self.refresh_in_flight().await,
            }
            self.report_progress().await;
        }
    }

    /// Handles one channel event; false once the channel is gone.
    async fn on_event(&mut self, event: DataChannelEvent) -> bool {
        match event {
            DataChannelEvent::OnOpen => self.on_open().await,
            DataChannelEvent::OnMessage(message) => {
                let mut batch = Batch::default();
                batch.push(message);
                let mut next = None;
                let mut drained = false;
                // Everything already waiting joins this batch: one crossing into JS for many
                // small messages is what makes them cheap.
                while !batch.is_full() {
                    match self.channel.poll().now_or_never() {
                        Some(Some(DataChannelEvent::OnMessage(message))) => batch.push(message),
                        Some(other) => {
                            next = Some(other);
                            break;
                        }
                        None => {
                            drained = true;
                            break;
                        }
                    }
                }
                self.taken_since_resume += batch.sizes.len();
                if drained {
                    self.resume_parked_reads();
                }
                self.deliver(batch);
                match next {
                    Some(Some(event)) => return Box::pin(self.on_event(event)).await,
                    Some(None) => return false,
                    None => {}
                }
            }
            DataChannelEvent::OnBufferedAmountLow => self.refresh_in_flight().await,
            DataChannelEvent::OnClose => return false,
            _ => {}
        }
        true
    }

    /// Called with the channel drained.
    fn resume_parked_reads(&mut self) {
        if self.taken_since_resume >= PARKED_READ_RUN {
            self.taken_since_resume = 0;
            self.runtime.resume_reads();
        }
    }

    async fn on_open(&mut self) {
        if !self.open {
            self.open = true;
            if self.outbox.is_none() {
                return;
            }
            let label = self.channel.label().await.unwrap_or_default();
            let pair = (self.selected_pair)().await;
            self.events.emit(NativeEvent::ChannelOpen { label, pair });
        }
    }

    fn deliver(&mut self, mut batch: Batch) {
        self.shared
            .unacknowledged
            .fetch_add(batch.bytes, Ordering::AcqRel);
        let sizes = std::mem::take(&mut batch.sizes);
        self.events.emit(NativeEvent::Messages {
            pieces: batch.into_pieces().into_iter().map(Into::into).collect(),
            sizes: sizes.into(),
        });
    }

    /// Moves queued messages into SCTP until it holds its high-water mark.
    async fn send_queued(&mut self, first: Outgoing) {
        let mut next = Some(first);
        while let Some(message) = next.take() {
            let len = message.len();
            let sent = match message {
                Outgoing::Binary(data) => self.channel.send(data).await,
                Outgoing::Text(text) => self.channel.send_text(&text).await,
                Outgoing::Flush(id) => {
                    self.flushes.push(id);
                    Ok(())
                }
            };
            self.shared.queued.fetch_sub(len, Ordering::AcqRel);
            self.in_flight_estimate += len;
            if let Err(error) = sent {
                self.events.emit(NativeEvent::error(NativeError::new(
                    "ERR_DATA_CHANNEL",
                    error.to_string(),
                )));
            }
            if self.in_flight_estimate >= self.in_flight_limit.limit {
                self.refresh_in_flight().await;
            }
            if self.in_flight_estimate < self.in_flight_limit.limit {
                next = self
                    .outbox
                    .as_mut()
                    .and_then(|outbox| outbox.try_recv().ok());
            }
        }
        self.shared
            .in_flight
            .store(self.in_flight_estimate, Ordering::Release);
    }

    async fn refresh_in_flight(&mut self) {
        // `in_flight` describes the stream's channel alone.
        if self.outbox.is_none() {
            return;
        }
        let outstanding = self.channel.outstanding_bytes().await.unwrap_or(0);
        // The estimate counts what was sent since the last look, so any shortfall is acknowledged.
        let acknowledged = self.in_flight_estimate.saturating_sub(outstanding);
        self.in_flight_estimate = outstanding;
        self.shared.in_flight.store(outstanding, Ordering::Release);
        let waiting = self.shared.queued.load(Ordering::Acquire) > 0;
        if outstanding == 0 && !waiting {
            // Everything is acknowledged and nothing waits: the writer sets the pace, and
            // however long it pauses says nothing about the remote's rate.
            self.in_flight_limit.restart(Instant::now());
            return;
        }
        if let Some(limit) = self
            .in_flight_limit
            .observe(acknowledged, waiting, Instant::now())
        {
            let _ = self
                .channel
                .set_buffered_amount_low_threshold(low_water(limit))
                .await;
        }
    }

    /// Tells JS what it waits for: room to write, and completed flushes.
    async fn report_progress(&mut self) {
        if self.shared.queued.load(Ordering::SeqCst) <= WRITE_HIGH_WATER
            && self.shared.writable_wanted.swap(false, Ordering::SeqCst)
        {
            self.events.emit(NativeEvent::Writable);
        }
        if !self.flushes.is_empty()
            && self.in_flight_estimate == 0
            && self.shared.queued.load(Ordering::Acquire) == 0
        {
            for id in self.flushes.drain(..) {
                self.events
                    .emit(NativeEvent::reply(id, Ok(ReplyValue::Done)));
            }
        }
    }

    /// The channel is gone: nothing is in flight any more, and no flush will ever finish
    /// better than now.
    fn finish(&mut self) {
        self.open = false;
        self.in_flight_estimate = 0;
        self.shared.in_flight.store(0, Ordering::Release);
        for id in self.flushes.drain(..) {
            self.events
                .emit(NativeEvent::reply(id, Ok(ReplyValue::Done)));
        }
        self.events.emit(NativeEvent::ChannelClose);
    }
}

/// The next queued message; never ready on a read-only channel.
async fn next_outgoing(outbox: &mut Option<mpsc::UnboundedReceiver<Outgoing>>) -> Option<Outgoing> {
    match outbox {
        Some(outbox) => outbox.recv().await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_reports_backpressure_past_the_high_water_mark() {
        let shared = ChannelShared::default();
        let chunk = || Outgoing::Binary(BytesMut::from(&[0u8; 40 * 1024][..]));
        assert!(shared.send(chunk()));
        assert!(!shared.send(chunk()));
        assert_eq!(shared.buffered_amount(), 80 * 1024);
        assert!(shared.writable_wanted.load(Ordering::SeqCst));
    }

    #[test]
    fn acknowledgements_never_underflow() {
        let shared = ChannelShared::default();
        shared.unacknowledged.store(10, Ordering::SeqCst);
        shared.acknowledge(25);
        assert_eq!(shared.unacknowledged.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn batch_sizes_carry_the_text_flag() {
        let mut batch = Batch::default();
        batch.push(RTCDataChannelMessage {
            is_string: true,
            data: BytesMut::from("hey"),
        });
        batch.push(RTCDataChannelMessage {
            is_string: false,
            data: BytesMut::from(&[1u8, 2][..]),
        });
        assert_eq!(batch.sizes, vec![3 << 1 | 1, 2 << 1]);
        assert_eq!(batch.into_pieces(), vec![b"hey\x01\x02".to_vec()]);
    }

    fn batch_of(lengths: &[usize]) -> Batch {
        let mut batch = Batch::default();
        for (index, &length) in lengths.iter().enumerate() {
            batch.push(RTCDataChannelMessage {
                is_string: false,
                data: BytesMut::from(&vec![index as u8; length][..]),
            });
        }
        batch
    }

    #[test]
    fn long_messages_keep_their_own_buffers_between_joined_runs() {
        let pieces = batch_of(&[3, 0, 2, OWN_BUFFER_MIN, 1, OWN_BUFFER_MIN + 1]).into_pieces();
        let lengths: Vec<usize> = pieces.iter().map(Vec::len).collect();
        assert_eq!(lengths, vec![5, OWN_BUFFER_MIN, 1, OWN_BUFFER_MIN + 1]);
        assert_eq!(pieces[0], vec![0, 0, 0, 2, 2]);
        assert_eq!(pieces[2], vec![4]);
    }

    #[test]
    fn joined_runs_split_before_a_message_that_does_not_fit() {
        let short = OWN_BUFFER_MIN - 1;
        let count = JOINED_MAX_BYTES / short + 1;
        let mut lengths = vec![short; count];
        // An empty message at the split stays with the full run: JS finds it there too.
        lengths.insert(count - 1, 0);
        let pieces = batch_of(&lengths).into_pieces();
        let sizes: Vec<usize> = pieces.iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![short * (count - 1), short]);
    }

    /// Feeds one rate window: `bytes` acknowledged over `RATE_WINDOW`.
    fn window(limit: &mut InFlightLimit, now: &mut Instant, bytes: usize, waiting: bool) -> usize {
        *now += RATE_WINDOW;
        limit.observe(bytes, waiting, *now);
        limit.limit
    }

    #[test]
    fn in_flight_limit_grows_with_a_fast_remote_up_to_the_maximum() {
        let mut now = Instant::now();
        let mut limit = InFlightLimit::new(now);
        assert_eq!(limit.limit, IN_FLIGHT_MIN);
        // 100 MB/s acknowledged: 8 ms of it is 800 kB.
        let per_window = (100e6 * RATE_WINDOW.as_secs_f64()) as usize;
        assert_eq!(window(&mut limit, &mut now, per_window, true), 800_000);
        // Twice as fast would be 1.6 MB: held to the maximum.
        assert_eq!(
            window(&mut limit, &mut now, 2 * per_window, true),
            IN_FLIGHT_MAX
        );
    }

    #[test]
    fn in_flight_limit_falls_to_the_minimum_when_waiting_data_gets_no_acknowledgement() {
        let mut now = Instant::now();
        let mut limit = InFlightLimit::new(now);
        window(&mut limit, &mut now, 10_000_000, true);
        assert_eq!(limit.limit, IN_FLIGHT_MAX);
        // A retransmission timeout: data waits, nothing comes back for a whole window.
        assert_eq!(window(&mut limit, &mut now, 0, true), IN_FLIGHT_MIN);
    }

    #[test]
    fn in_flight_limit_keeps_its_value_when_the_writer_sets_the_pace() {
        let mut now = Instant::now();
        let mut limit = InFlightLimit::new(now);
        window(&mut limit, &mut now, 10_000_000, true);
        // A writer that sends a trickle with nothing left waiting: a low rate is its own.
        assert_eq!(window(&mut limit, &mut now, 1_000, false), IN_FLIGHT_MAX);
        // A slower remote that holds data back lowers it, but not below the minimum.
        let per_window = (20e6 * RATE_WINDOW.as_secs_f64()) as usize;
        assert_eq!(window(&mut limit, &mut now, per_window, true), 160_000);
    }

    #[test]
    fn in_flight_limit_waits_for_a_whole_window() {
        let now = Instant::now();
        let mut limit = InFlightLimit::new(now);
        assert_eq!(limit.observe(10_000_000, true, now + RATE_WINDOW / 2), None);
        assert_eq!(
            limit.observe(0, true, now + RATE_WINDOW),
            Some(IN_FLIGHT_MAX)
        );
    }
}
