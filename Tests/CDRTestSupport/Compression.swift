import CZlib
import CZstd

/// Compresses test data with the same libraries the reader decodes with.
public enum Compression {
    /// One zstd frame per piece: `frames` > 1 splits `bytes` into that many concatenated frames.
    public static func zstd(_ bytes: [UInt8], frames: Int = 1, level: Int32 = 3) -> [UInt8] {
        var output: [UInt8] = []
        for piece in pieces(bytes, count: frames) {
            let bound = ZSTD_compressBound(piece.count)
            var frame = [UInt8](repeating: 0, count: bound)
            let size = frame.withUnsafeMutableBytes { target in
                piece.withUnsafeBytes { source in
                    ZSTD_compress(target.baseAddress, bound, source.baseAddress, piece.count, level)
                }
            }
            precondition(ZSTD_isError(size) == 0, "ZSTD_compress failed")
            output.append(contentsOf: frame.prefix(size))
        }
        return output
    }

    /// A zstd skippable frame (magic `0x184D2A50`) carrying `payload`, which readers ignore.
    public static func zstdSkippableFrame(payload: [UInt8]) -> [UInt8] {
        var frame: [UInt8] = [0x50, 0x2A, 0x4D, 0x18]
        let size = UInt32(payload.count)
        frame.append(
            contentsOf: (0..<4).map { UInt8(truncatingIfNeeded: size >> (8 * UInt32($0))) })
        return frame + payload
    }

    /// One gzip member per piece: `members` > 1 gives concatenated members, like `cat a.gz b.gz`.
    public static func gzip(_ bytes: [UInt8], members: Int = 1) -> [UInt8] {
        var output: [UInt8] = []
        for piece in pieces(bytes, count: members) {
            var stream = z_stream()
            // 15 + 16: gzip framing; 8: default memory level.
            let status = deflateInit2_(
                &stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
            precondition(status == Z_OK, "deflateInit2 failed")
            var member = [UInt8](
                repeating: 0, count: Int(deflateBound(&stream, UInt(piece.count))) + 64)
            var input = piece
            let produced = input.withUnsafeMutableBytes { source in
                member.withUnsafeMutableBytes { target in
                    stream.next_in = source.baseAddress?.assumingMemoryBound(to: UInt8.self)
                    stream.avail_in = UInt32(source.count)
                    stream.next_out = target.baseAddress?.assumingMemoryBound(to: UInt8.self)
                    stream.avail_out = UInt32(target.count)
                    let result = deflate(&stream, Z_FINISH)
                    precondition(result == Z_STREAM_END, "deflate did not finish")
                    return target.count - Int(stream.avail_out)
                }
            }
            deflateEnd(&stream)
            output.append(contentsOf: member.prefix(produced))
        }
        return output
    }

    private static func pieces(_ bytes: [UInt8], count: Int) -> [[UInt8]] {
        let size = max(1, (bytes.count + count - 1) / max(count, 1))
        return stride(from: 0, to: max(bytes.count, 1), by: size).map { start in
            Array(bytes[start..<min(start + size, bytes.count)])
        }
    }
}
