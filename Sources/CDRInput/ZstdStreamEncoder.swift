internal import CZstd

/// Compresses a stream into one zstd frame through libzstd, in bounded memory.
///
/// The counterpart of `StreamDecoder` for what catpool writes: simulated days, benchmark
/// corpora. Compressed bytes are handed to a sink as they are produced; `finish` ends the
/// frame. With `workers` > 0, libzstd compresses on that many threads of its own.
public final class ZstdStreamEncoder {
    /// libzstd refused a parameter or failed while compressing.
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public var reason: String
        public var description: String { "zstd compression failed: \(reason)" }
    }

    private let context: OpaquePointer
    private let buffer: UnsafeMutableRawBufferPointer

    /// Creates an encoder.
    ///
    /// - Parameters:
    ///   - level: the zstd compression level (1 to 19; 3 is zstd's default).
    ///   - workers: compression threads besides the caller's (0: compress on the caller's thread).
    public init(level: Int32 = 3, workers: Int32 = 0) throws(Failure) {
        guard let context = ZSTD_createCCtx() else {
            throw Failure(reason: "ZSTD_createCCtx failed")
        }
        self.context = context
        buffer = .allocate(byteCount: ZSTD_CStreamOutSize(), alignment: 16)
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level))
        if workers > 0 { try check(ZSTD_CCtx_setParameter(context, ZSTD_c_nbWorkers, workers)) }
    }

    deinit {
        ZSTD_freeCCtx(context)
        buffer.deallocate()
    }

    /// Compresses `input`, handing compressed bytes to `sink` as the buffer fills.
    public func compress(
        _ input: UnsafeRawBufferPointer, _ sink: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while source.pos < source.size {
            try step(&source, ZSTD_e_continue, sink)
        }
    }

    /// Ends the frame, handing the last compressed bytes to `sink`.
    public func finish(_ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        var source = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        while try step(&source, ZSTD_e_end, sink) != 0 {}
    }

    /// One call of `ZSTD_compressStream2`; returns what libzstd says remains to flush.
    @discardableResult
    private func step(
        _ source: inout ZSTD_inBuffer, _ directive: ZSTD_EndDirective,
        _ sink: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> Int {
        var target = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
        let remaining = ZSTD_compressStream2(context, &target, &source, directive)
        try check(remaining)
        if target.pos > 0 { try sink(UnsafeRawBufferPointer(rebasing: buffer[..<target.pos])) }
        return remaining
    }

    private func check(_ result: Int) throws(Failure) {
        if ZSTD_isError(result) != 0 {
            throw Failure(reason: String(cString: ZSTD_getErrorName(result)))
        }
    }
}
