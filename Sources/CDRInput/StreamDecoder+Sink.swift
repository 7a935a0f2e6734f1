extension StreamDecoder {
    /// Decodes all of `chunk`, handing each decoded piece to `body`.
    ///
    /// A convenience over `decode(_:into:)` for callers that need no control over buffers.
    /// The pieces are slices of `buffer` and are valid only during the call to `body`.
    public func feed(
        _ chunk: UnsafeRawBufferPointer,
        using buffer: UnsafeMutableRawBufferPointer,
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        var rest = chunk
        while true {
            let before = rest.count
            let count = try decode(&rest, into: buffer)
            if count > 0 { try body(UnsafeRawBufferPointer(rebasing: buffer[..<count])) }
            if count < buffer.count && (rest.isEmpty || rest.count == before) { return }
        }
    }

    /// Ends the input, handing the last decoded pieces to `body`.
    ///
    /// - Throws: `InputError.truncated` when the input stopped inside a frame or member.
    public func finish(
        using buffer: UnsafeMutableRawBufferPointer,
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        while true {
            let count = try finish(into: buffer)
            if count == 0 { return }
            try body(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        }
    }
}
