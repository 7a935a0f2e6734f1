import Foundation

/// A bounded first-in, first-out queue between two threads: every queue of catpool.
///
/// The reader hands decoded chunks to the parser through one (`DecodingReader`) and the
/// parser hands batches of records to the detector and takes them back through two
/// (`DetectorThread`). `send` waits while the queue is full, so a fast producer waits for a
/// slow consumer instead of filling memory; `receive` waits while it is empty.
///
/// It is the one type in catpool whose sharing the compiler does not check (`@unchecked
/// Sendable`): every stored property is read and written only under `condition`, and an
/// element belongs to the sender until `send` and to the receiver after `receive`. Elements
/// need not be `Sendable` (buffers, a detection stage): each is in one thread's hands at a
/// time.
final class HandOff<Element>: @unchecked Sendable {
    private let condition = NSCondition()
    /// A ring of `capacity` slots; the oldest element is at `head`.
    private var slots: [Element?]
    private var head = 0
    private var count = 0
    /// Time `send` has slept on a full queue, and `receive` on an empty one.
    private var sendWaits = WaitTally()
    private var receiveWaits = WaitTally()

    /// What `send` and `receive` have waited so far.
    var waits: (send: WaitTally, receive: WaitTally) {
        condition.lock()
        defer { condition.unlock() }
        return (sendWaits, receiveWaits)
    }

    /// - Parameter capacity: the most elements waiting at once; `send` waits beyond it.
    init(capacity: Int) {
        precondition(capacity > 0, "a hand-off holds at least one element")
        slots = Array(repeating: nil, count: capacity)
    }

    /// Appends `element`, first waiting while the queue is full.
    func send(_ element: Element) {
        condition.lock()
        defer { condition.unlock() }
        if count == slots.count {
            let start = monotonicSeconds()
            while count == slots.count { condition.wait() }
            sendWaits.add(since: start)
        }
        slots[(head + count) % slots.count] = element
        count += 1
        condition.broadcast()
    }

    /// Removes the oldest element, first waiting while the queue is empty.
    func receive() -> Element {
        condition.lock()
        defer { condition.unlock() }
        if count == 0 {
            let start = monotonicSeconds()
            while count == 0 { condition.wait() }
            receiveWaits.add(since: start)
        }
        return takeOldest()
    }

    /// Removes the oldest element if there is one; never waits.
    func receiveIfReady() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        return count == 0 ? nil : takeOldest()
    }

    /// Waits at most `seconds` for an element; `true` when `receive` would return at once.
    func waitForElement(seconds: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.lock()
        defer { condition.unlock() }
        guard count == 0 else { return true }
        let start = monotonicSeconds()
        defer { receiveWaits.add(since: start) }
        while count == 0 {
            if !condition.wait(until: deadline) { return count > 0 }
        }
        return true
    }

    /// Under `condition`, with `count > 0`.
    private func takeOldest() -> Element {
        guard let element = slots[head].take() else {
            preconditionFailure("a hand-off slot in use is empty")
        }
        head = (head + 1) % slots.count
        count -= 1
        condition.broadcast()
        return element
    }
}

/// A queue's sleeps, counted: how long a thread waited on the other side (`--stats`
/// `threads`).
///
/// The clock is read only around a sleep, never for an element that passes at once, so a run
/// pays for it a few thousand times, not once a chunk or batch.
struct WaitTally: Equatable {
    /// Sleeps.
    private(set) var count = 0
    /// Their total length.
    private(set) var seconds = 0.0

    /// Counts a sleep that began at `start` (`monotonicSeconds()`) and ends now.
    mutating func add(since start: Double) {
        count += 1
        seconds += monotonicSeconds() - start
    }

    /// Both tallies together: one thread's sleeps on two queues to the same other thread.
    static func + (left: WaitTally, right: WaitTally) -> WaitTally {
        var sum = left
        sum.count += right.count
        sum.seconds += right.seconds
        return sum
    }
}
