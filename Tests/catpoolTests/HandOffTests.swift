import Foundation
import Testing

@testable import catpool

/// `HandOff` against an array used as a queue, and across two threads.
struct HandOffTests {
    @Test(arguments: [1, 2, 3, 16])
    func behavesAsAnArrayQueue(capacity: Int) {
        let handOff = HandOff<Int>(capacity: capacity)
        var reference: [Int] = []
        var generator = SplitMix(seed: UInt64(capacity))
        for value in 0..<10_000 {
            if reference.count < capacity, generator.next() % 2 == 0 {
                handOff.send(value)
                reference.append(value)
            } else {
                #expect(handOff.receiveIfReady() == reference.first)
                if !reference.isEmpty { reference.removeFirst() }
            }
            #expect(handOff.waitForElement(seconds: 0) == !reference.isEmpty)
        }
    }

    @Test func keepsOrderBetweenThreadsWhenFull() async {
        let handOff = HandOff<Int>(capacity: 2)
        let count = 20_000
        async let received: [Int] = Task.detached {
            (0..<count).map { _ in handOff.receive() }
        }.value
        for value in 0..<count { handOff.send(value) }
        #expect(await received == Array(0..<count))
    }

    /// Only a sleep is counted (`--stats` `threads`): not an element that passes at once.
    /// (Plain threads, not tasks: a task blocked in `receive` would hold a thread of the
    /// small cooperative pool the other side needs.)
    @Test func countsTheSleepsAndOnlyThem() {
        let handOff = HandOff<Int>(capacity: 1)
        handOff.send(1)
        #expect(handOff.receive() == 1)
        #expect(handOff.waits.receive == WaitTally())
        #expect(handOff.waits.send == WaitTally())

        // The receiver sleeps until a send 0.2 s later.
        Thread {
            usleep(200_000)
            handOff.send(2)
        }.start()
        #expect(handOff.receive() == 2)
        #expect(handOff.waits.receive.count == 1)
        #expect(handOff.waits.receive.seconds >= 0.15)

        // The sender sleeps on a full queue until a receive 0.2 s later.
        handOff.send(3)
        let received = HandOff<Int>(capacity: 1)
        Thread {
            usleep(200_000)
            received.send(handOff.receive())
        }.start()
        handOff.send(4)
        #expect(received.receive() == 3)
        #expect(handOff.waits.send.count == 1)
        #expect(handOff.waits.send.seconds >= 0.15)
        #expect(handOff.receive() == 4)

        // A wait that times out is one sleep too.
        #expect(!handOff.waitForElement(seconds: 0.05))
        #expect(handOff.waits.receive.count == 2)
        #expect(handOff.waits.receive.seconds >= 0.19)
    }
}

/// A seeded generator (SplitMix64), so a failure repeats.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
