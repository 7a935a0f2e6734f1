import CDRInput
import CSupport
import Crypto
import Foundation

/// Reads the inputs in order on its own thread, decodes them, and hands decoded chunks to
/// the caller through a small pool of buffers.
///
/// Decompression (libzstd at about 0.9 GB/s on one core) then overlaps with parsing on the
/// caller's thread. Events go over one `HandOff` and buffers come back over another; the
/// pool bounds memory: the reader waits when every buffer is full. A chunk is handed over
/// as soon as the input has nothing more to read for the moment, so a slow live feed is not
/// held back waiting for a full buffer.
final class DecodingReader: Sendable {
    /// What the reader hands over, in input order.
    enum Event {
        /// An input begins.
        case begin(name: String)
        /// Decoded bytes: the first `count` bytes of `buffer`; give it back with `recycle`.
        case data(buffer: UnsafeMutableRawBufferPointer, count: Int)
        /// An input ended cleanly; `sha256` is the digest of its bytes as read (lower-case hex),
        /// when the reader hashes.
        case end(bytesIn: Int, format: CompressionFormat?, sha256: String?)
        /// An input could not be decoded further; everything before was handed over.
        case corrupt(InputError, bytesIn: Int, format: CompressionFormat?)
        /// An input could not be opened or read.
        case unreadable(name: String, reason: String)
        /// All inputs are done.
        case finished
    }

    /// Compressed bytes read at a time: 256 KiB, as 1 MiB held 0.8 MB more at the peak for
    /// no speed measured (six rotated runs on the dense city's day).
    static let readSize = 1 << 18
    static let chunkSize = 1 << 20

    private let inputs: [String]
    private let hashes: Bool
    /// Where the reader writes its CPU time and its waits for the parser as it ends.
    private let board: ThreadUseBoard?
    private let sharesCores: Bool
    /// Decoded buffers free to fill: all of them at the start.
    private let free: HandOff<UnsafeMutableRawBufferPointer>
    /// What the reader has read, in order.
    ///
    /// Every `.data` holds a buffer, so it holds at most `bufferCount` of those, and an
    /// input's few others.
    private let events: HandOff<Event>

    /// - Parameters:
    ///   - inputs: file paths; `-` is stdin.
    ///   - hashes: computes each input's SHA-256 (`--stats` reports it): 0.8-0.9 s more of
    ///     this thread's CPU on a dense city's 949 MB day, so only when asked.
    ///   - sharesCores: whether two other busy threads run beside it (`detect`): it then runs
    ///     as batch work (`markAsBatchWork`).
    ///   - bufferCount: decoded chunks that may wait for the parser at once.
    ///   - board: where the reader writes how it spent the run (`--stats` `threads`).
    init(
        inputs: [String], hashes: Bool, sharesCores: Bool = false, bufferCount: Int = 16,
        board: ThreadUseBoard? = nil
    ) {
        self.inputs = inputs
        self.hashes = hashes
        self.board = board
        self.sharesCores = sharesCores
        free = HandOff(capacity: bufferCount)
        events = HandOff(capacity: bufferCount + 4)
        for _ in 0..<bufferCount {
            free.send(.allocate(byteCount: Self.chunkSize, alignment: 64))
        }
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "catpool-reader"
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Waits at most `seconds` for an event; `true` when `next()` would return at once.
    func waitForEvent(seconds: Double) -> Bool { events.waitForElement(seconds: seconds) }

    /// The next event, waiting for it if needed.
    func next() -> Event { events.receive() }

    /// How long the caller has waited in `next()` and `waitForEvent` for the reader.
    var callerWaits: WaitTally { events.waits.receive }

    /// Returns a buffer from a `.data` event to the pool.
    func recycle(_ buffer: UnsafeMutableRawBufferPointer) { free.send(buffer) }

    // MARK: - Reader thread

    private func post(_ event: Event) { events.send(event) }

    private func takeBuffer() -> UnsafeMutableRawBufferPointer { free.receive() }

    private func run() {
        if sharesCores { markAsBatchWork() }
        lowerThreadPriority()
        let readBuffer = UnsafeMutableRawBufferPointer.allocate(
            byteCount: Self.readSize, alignment: 64)
        defer { readBuffer.deallocate() }
        for name in inputs {
            guard read(name, through: readBuffer) else { break }
        }
        // It waits on the parser for a free buffer, and with many small inputs for room among
        // the events.
        board?.setCPU(of: .reader, seconds: threadCPUSeconds())
        board?.setWait(of: .reader, on: .parser, free.waits.receive + events.waits.send)
        post(.finished)
    }

    /// Reads and decodes one input; returns `false` when the run must stop.
    private func read(_ name: String, through readBuffer: UnsafeMutableRawBufferPointer) -> Bool {
        let descriptor: Int32 = name == "-" ? 0 : open(name, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            post(.unreadable(name: name, reason: String(cString: strerror(errno))))
            return false
        }
        defer { if descriptor != 0 { close(descriptor) } }
        post(.begin(name: name))
        let decoder = StreamDecoder()
        // Hashed as read, before decoding, on this thread (issue #12: the digest ties an
        // evidence file to the exact dump; measured cost in docs/operations.md).
        var digest = hashes ? SHA256() : nil
        var chunk = Chunk(buffer: takeBuffer())
        do {
            while true {
                let count = Glibc.read(descriptor, readBuffer.baseAddress, readBuffer.count)
                if count < 0 {
                    if errno == EINTR { continue }
                    let reason = String(cString: strerror(errno))
                    release(chunk)
                    post(.unreadable(name: name, reason: reason))
                    return false
                }
                if count == 0 { break }
                var input = UnsafeRawBufferPointer(rebasing: readBuffer[..<count])
                digest?.update(bufferPointer: input)
                while true {
                    chunk.count += try decoder.decode(&input, into: chunk.free)
                    let isFull = chunk.free.isEmpty
                    if isFull { hand(&chunk) }
                    if input.isEmpty && !isFull { break }
                }
                // A short read means the input has nothing more for now: pass on what we have.
                if count < readBuffer.count, chunk.count > 0 { hand(&chunk) }
            }
            while true {
                let count = try decoder.finish(into: chunk.free)
                if count == 0 { break }
                chunk.count += count
                if chunk.free.isEmpty { hand(&chunk) }
            }
            release(chunk)
            let hex = digest?.finalize().map { hexDigits($0) }.joined()
            post(.end(bytesIn: decoder.bytesIn, format: decoder.format, sha256: hex))
            return true
        } catch {
            release(chunk)
            post(.corrupt(error, bytesIn: decoder.bytesIn, format: decoder.format))
            return false
        }
    }

    /// Posts the chunk's bytes and starts a new chunk in a fresh buffer.
    private func hand(_ chunk: inout Chunk) {
        post(.data(buffer: chunk.buffer, count: chunk.count))
        chunk = Chunk(buffer: takeBuffer())
    }

    /// Posts what the last chunk of an input holds, or returns its buffer if it is empty.
    private func release(_ chunk: Chunk) {
        if chunk.count > 0 {
            post(.data(buffer: chunk.buffer, count: chunk.count))
        } else {
            recycle(chunk.buffer)
        }
    }

    /// A buffer being filled with decoded bytes.
    private struct Chunk {
        let buffer: UnsafeMutableRawBufferPointer
        var count = 0

        var free: UnsafeMutableRawBufferPointer {
            UnsafeMutableRawBufferPointer(rebasing: buffer[count...])
        }
    }
}

/// A byte as two lower-case hexadecimal digits.
private func hexDigits(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
}

/// Lowers the calling thread's scheduling priority a step (Linux: nice is per thread).
///
/// The reader, the parser and the detector are three busy threads; on two cores all three
/// are often runnable. The reader and parser run at nice 3, so the detector, which the
/// others feed and never wait for, keeps a core when it has work and yields it when it has
/// none (paired runs on a city day: 4.5-5.9 s with, 4.6-6.3 s without).
func lowerThreadPriority() {
    _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(catpool_thread_id()), 3)
}

/// Tells the scheduler the calling thread is CPU-bound batch work (Linux `SCHED_BATCH`):
/// a thread that wakes then waits for the next tick instead of preempting it.
///
/// Only `detect`'s threads ask for it: `check` has two threads for two cores.
///
/// Three busy threads on two cores otherwise switch about 400 times a second, each switch
/// leaving the incoming thread's data out of the core's cache. As batch threads they are
/// preempted 58 % less often (docs/operations.md); the wall time's change is within this
/// VM's noise. It asks for no privilege; where it is refused, nothing changes.
func markAsBatchWork() {
    _ = catpool_schedule_as_batch()
}
