internal import CSupport

/// A fixed-capacity array of plain structs addressed by SIM number, cache-line aligned, with
/// no copy-on-write and no bounds check in release builds: the detector's only handles to it
/// are numbers it issued.
///
/// The whole capacity (the state cap's worth) is reserved at once and never moved: the
/// system maps pages only as they are first written, so memory follows the SIMs actually
/// seen, and no growth ever copies a million records.
struct DenseStore<Element>: ~Copyable {
    private(set) var count = 0
    let capacity: Int
    private let base: UnsafeMutablePointer<Element>

    init(capacity: Int) {
        self.capacity = capacity
        base = UnsafeMutableRawPointer.allocate(
            byteCount: max(1, capacity) * MemoryLayout<Element>.stride, alignment: 64
        ).bindMemory(to: Element.self, capacity: capacity)
    }

    deinit {
        base.deinitialize(count: count)
        UnsafeMutableRawPointer(base).deallocate()
    }

    /// Bytes in use (pages never written cost nothing).
    var bytes: Int { count * MemoryLayout<Element>.stride }

    subscript(number: Int32) -> Element {
        @inline(__always) get {
            assert(number >= 0 && Int(number) < count)
            return base[Int(number)]
        }
        @inline(__always) nonmutating set {
            assert(number >= 0 && Int(number) < count)
            base[Int(number)] = newValue
        }
    }

    @inline(__always)
    func pointer(to number: Int32) -> UnsafeMutablePointer<Element> {
        assert(number >= 0 && Int(number) < count)
        return base + Int(number)
    }

    @inline(__always)
    func prefetch(_ number: Int32) {
        // Both ends: an element may straddle two cache lines.
        let start = UnsafeRawPointer(base + Int(number))
        catpool_prefetch(start)
        catpool_prefetch(start + (MemoryLayout<Element>.size - 1))
    }

    func save(
        into writer: inout StateWriter, normalising normalise: ((inout Element) -> Void)? = nil
    ) {
        writer.writeRaw(base, count: count, normalising: normalise)
    }

    /// Replaces the contents with what `save` wrote (plain structs, copied as bytes).
    ///
    /// - Parameter isValid: checks one element's bytes before it is read as an `Element`
    ///   (a `Bool` or an enum takes only some bit patterns).
    mutating func restore(from reader: inout StateReader, isValid: (UnsafeRawPointer) -> Bool)
        throws(StateError)
    {
        base.deinitialize(count: count)
        count = 0
        let restored = try reader.readRaw(into: base, capacity: capacity)
        for index in 0..<restored
        where !isValid(UnsafeRawPointer(base + index)) {
            throw .malformed("a SIM's record")
        }
        count = restored
    }

    mutating func append(_ element: Element) {
        precondition(count < capacity, "DenseStore is full")
        (base + count).initialize(to: element)
        count += 1
    }
}
