internal import CZlib
internal import CZstd

/// Decompresses one input — zstd, gzip or plain text — recognised from its first bytes.
///
/// `CDRInput` turns the bytes of a file or pipe into decoded chunks (`StreamDecoder`) and
/// the chunks into lines (`LineSplitter`). It is the only module that sees libzstd and zlib,
/// and it does no I/O: the caller reads, this type decodes into a buffer the caller owns,
/// so a reader thread can decode straight into buffers it hands to the parser.
///
/// - zstd: any number of concatenated frames; skippable frames are skipped by libzstd.
/// - gzip: any number of concatenated members (`cat a.gz b.gz`).
/// - plain: copied through.
///
/// Drive it with `decode(_:into:)` until the input is consumed and a call returns less than
/// a full buffer, then with `finish(into:)` until it returns 0. A stream that stops inside
/// a zstd frame or gzip member is reported as ``InputError/truncated(format:offset:)`` by
/// `finish`; bytes the library rejects are ``InputError/corrupt(format:offset:reason:)``.
/// Everything written to `output` before an error is valid decoded data.
public final class StreamDecoder {
    /// The detected format, or `nil` until enough bytes have arrived to tell.
    public private(set) var format: CompressionFormat?
    /// Compressed bytes consumed so far.
    public private(set) var bytesIn = 0
    /// Decoded bytes produced so far.
    public private(set) var bytesOut = 0

    /// Bytes held back until the format is known (at most `CompressionFormat.prefixLength`).
    private let prefixStorage = UnsafeMutableRawBufferPointer.allocate(
        byteCount: CompressionFormat.prefixLength, alignment: 1)
    private var prefixCount = 0
    private var zstdContext: OpaquePointer?
    private var gzipStream: UnsafeMutablePointer<z_stream>?
    /// `true` while a zstd frame or gzip member has started and not ended.
    private var isInsideFrame = false
    /// `true` after a gzip member ended: the next byte starts a new member.
    private var gzipNeedsReset = false
    /// A fault found after some bytes of the same call had decoded: those bytes are returned
    /// first, and the fault is thrown by the next call.
    private var pendingError: InputError?

    /// zstd is fed at most this many compressed bytes a call.
    ///
    /// libzstd reports neither the position of a fault nor the bytes it decoded in the
    /// failing call, so small slices
    /// make the reported offset precise to 16 KiB and lose nothing but the damaged block.
    static let zstdSliceBytes = 16 * 1024

    public init() {}

    deinit {
        prefixStorage.deallocate()
        if let zstdContext { ZSTD_freeDCtx(zstdContext) }
        if let gzipStream {
            inflateEnd(gzipStream)
            gzipStream.deallocate()
        }
    }

    /// Decodes bytes from the front of `input` into `output`.
    ///
    /// - Parameters:
    ///   - input: compressed bytes; on return it holds what was not consumed because
    ///     `output` filled up.
    ///   - output: where decoded bytes go, at least 16 bytes.
    /// - Returns: the number of bytes written to the front of `output`. When it equals
    ///   `output.count`, call again (with the rest of `input`, or an empty one): the decoder
    ///   may hold more.
    /// - Throws: `InputError.corrupt` when the library rejects the data.
    public func decode(
        _ input: inout UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws(InputError) -> Int {
        precondition(output.count >= 16, "output buffer too small")
        if let pendingError { throw pendingError }
        var written = 0
        if format == nil {
            guard try detectFormat(&input) else { return 0 }
            var held = takePrefix()
            written = try decodeKnown(&held, into: output)
            precondition(held.isEmpty, "a held-back prefix always fits")
        }
        let more = try decodeKnown(
            &input, into: UnsafeMutableRawBufferPointer(rebasing: output[written...]))
        return written + more
    }

    /// Ends the input: decodes bytes still held back and checks the stream ended on a
    /// frame or member boundary.
    ///
    /// - Returns: bytes written to `output`; call until it returns 0.
    /// - Throws: `InputError.truncated` when the input stopped inside a frame or member.
    public func finish(into output: UnsafeMutableRawBufferPointer) throws(InputError) -> Int {
        if let pendingError { throw pendingError }
        if format == nil {
            format = CompressionFormat.detect(
                prefix: UnsafeRawBufferPointer(rebasing: prefixStorage[..<prefixCount]),
                isComplete: true)
            try startDecoder()
            var held = takePrefix()
            return try decodeKnown(&held, into: output)
        }
        var empty = UnsafeRawBufferPointer(start: nil, count: 0)
        let flushed = try decodeKnown(&empty, into: output)
        if flushed == 0, isInsideFrame, let format {
            throw .truncated(format: format, offset: bytesIn)
        }
        return flushed
    }

    // MARK: - Format detection

    /// Returns `true` once the format is known; may move up to four bytes into `prefix`.
    private func detectFormat(_ input: inout UnsafeRawBufferPointer) throws(InputError) -> Bool {
        if prefixCount == 0, let known = CompressionFormat.detect(prefix: input, isComplete: false)
        {
            format = known
            if known == .plain, let other = CompressionFormat.unsupported(prefix: input) {
                format = nil
                throw .unsupportedFormat(name: other.name, command: other.command)
            }
        } else {
            let take = min(CompressionFormat.prefixLength - prefixCount, input.count)
            if take > 0, let source = input.baseAddress, let target = prefixStorage.baseAddress {
                (target + prefixCount).copyMemory(from: source, byteCount: take)
            }
            prefixCount += take
            input = UnsafeRawBufferPointer(rebasing: input[take...])
            format = CompressionFormat.detect(
                prefix: UnsafeRawBufferPointer(rebasing: prefixStorage[..<prefixCount]),
                isComplete: false)
            if format == nil { return false }
        }
        try startDecoder()
        return true
    }

    /// The held-back bytes, now to be decoded; the storage stays valid until the next input.
    private func takePrefix() -> UnsafeRawBufferPointer {
        defer { prefixCount = 0 }
        return UnsafeRawBufferPointer(rebasing: prefixStorage[..<prefixCount])
    }

    private func startDecoder() throws(InputError) {
        switch format {
        case .zstd:
            guard let context = ZSTD_createDCtx() else {
                throw .decoderUnavailable(format: .zstd, reason: "ZSTD_createDCtx failed")
            }
            zstdContext = context
        case .gzip:
            let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            stream.initialize(to: z_stream())
            // 15 + 16: a 32 KiB window and gzip framing (not zlib or raw deflate).
            let status = catpool_inflateInit2(stream, 15 + 16)
            guard status == Z_OK else {
                stream.deallocate()
                throw .decoderUnavailable(format: .gzip, reason: "inflateInit2 returned \(status)")
            }
            gzipStream = stream
        case .plain, nil:
            break
        }
    }

    // MARK: - Decoding a known format

    private func decodeKnown(
        _ input: inout UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws(InputError) -> Int {
        guard !output.isEmpty else { return 0 }
        let written: Int
        switch format {
        case .zstd: written = try decodeZstd(&input, into: output)
        case .gzip: written = try decodeGzip(&input, into: output)
        case .plain, nil: written = copyPlain(&input, into: output)
        }
        bytesOut += written
        return written
    }

    private func copyPlain(
        _ input: inout UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) -> Int {
        let count = min(input.count, output.count)
        if count > 0, let source = input.baseAddress, let target = output.baseAddress {
            target.copyMemory(from: source, byteCount: count)
        }
        input = UnsafeRawBufferPointer(rebasing: input[count...])
        bytesIn += count
        return count
    }

    private func decodeZstd(
        _ input: inout UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws(InputError) -> Int {
        guard let zstdContext, !input.isEmpty || isInsideFrame else { return 0 }
        var target = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
        var consumed = 0
        repeat {
            let slice = min(input.count - consumed, Self.zstdSliceBytes)
            var source = ZSTD_inBuffer(
                src: input.baseAddress.map { $0 + consumed }, size: slice, pos: 0)
            let before = target.pos
            let result = ZSTD_decompressStream(zstdContext, &target, &source)
            if ZSTD_isError(result) != 0 {
                let error = InputError.corrupt(
                    format: .zstd, offset: bytesIn + consumed,
                    reason: String(cString: ZSTD_getErrorName(result)))
                guard target.pos > 0 else { throw error }
                pendingError = error
                break
            }
            consumed += source.pos
            isInsideFrame = result != 0
            if source.pos == 0 && target.pos == before { break }  // no progress: needs more input
        } while consumed < input.count && target.pos < target.size
        input = UnsafeRawBufferPointer(rebasing: input[consumed...])
        bytesIn += consumed
        return target.pos
    }

    private func decodeGzip(
        _ input: inout UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws(InputError) -> Int {
        guard let stream = gzipStream, !input.isEmpty || isInsideFrame else { return 0 }
        if gzipNeedsReset, !input.isEmpty {
            inflateReset(stream)
            gzipNeedsReset = false
        }
        let inputCount = input.count
        stream.pointee.next_in = UnsafeMutablePointer(
            mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
        stream.pointee.avail_in = UInt32(inputCount)
        stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
        stream.pointee.avail_out = UInt32(output.count)
        loop: while true {
            let status = inflate(stream, Z_NO_FLUSH)
            switch status {
            case Z_OK:
                isInsideFrame = true
                if stream.pointee.avail_in == 0 || stream.pointee.avail_out == 0 { break loop }
            case Z_STREAM_END:
                isInsideFrame = false
                guard stream.pointee.avail_in > 0 else {
                    gzipNeedsReset = true
                    break loop
                }
                inflateReset(stream)  // another member follows
                if stream.pointee.avail_out == 0 { break loop }
            case Z_BUF_ERROR:
                break loop  // no progress possible without more input or output space
            default:
                let consumed = inputCount - Int(stream.pointee.avail_in)
                let reason =
                    stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                let error = InputError.corrupt(
                    format: .gzip, offset: bytesIn + consumed, reason: reason)
                guard stream.pointee.avail_out < UInt32(output.count) else { throw error }
                pendingError = error  // hand over what decoded before the fault first
                break loop
            }
        }
        let consumed = inputCount - Int(stream.pointee.avail_in)
        input = UnsafeRawBufferPointer(rebasing: input[consumed...])
        bytesIn += consumed
        return output.count - Int(stream.pointee.avail_out)
    }
}
