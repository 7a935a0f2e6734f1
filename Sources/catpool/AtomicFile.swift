import Foundation
import Glibc

/// Replaces a file all at once: written beside it under a temporary name, flushed to disk,
/// then renamed over it (and the folder flushed), so a reader or a crash sees either the old
/// file or the new one, never half of either.
enum AtomicFile {
    static func write(_ bytes: [UInt8], to path: String) throws(OutputFile.OutputError) {
        let file = try AtomicFileWriter(path: path)
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        defer { copy.deallocate() }
        copy.copyBytes(from: bytes)
        do {
            try file.write(UnsafeRawBufferPointer(copy))
            try file.commit()
        } catch {
            file.abandon()
            throw error
        }
    }

    /// The whole file (its first `limit` bytes), or `nil` when there is none.
    static func read(_ path: String, limit: Int = .max) throws(OutputFile.OutputError)
        -> [UInt8]?
    {
        guard let file = try InputFile(path: path) else { return nil }
        var bytes: [UInt8] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 1)
        defer { buffer.deallocate() }
        while true {
            let count = try file.read(into: buffer)
            if count == 0 { return bytes }
            bytes.append(contentsOf: buffer[..<min(count, limit - bytes.count)])
            if bytes.count >= limit { return bytes }
        }
    }
}

/// A file being replaced: bytes go to a temporary file beside it; `commit` makes it the file.
final class AtomicFileWriter {
    let path: String
    private let temporary: String
    private var descriptor: Int32

    init(path: String) throws(OutputFile.OutputError) {
        self.path = path
        temporary = "\(path).tmp-\(getpid())"
        descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .failed(path: temporary, errno: errno) }
    }

    deinit { abandon() }

    func write(_ bytes: UnsafeRawBufferPointer) throws(OutputFile.OutputError) {
        guard let base = bytes.baseAddress else { return }
        var written = 0
        while written < bytes.count {
            let count = Glibc.write(descriptor, base + written, bytes.count - written)
            if count < 0 {
                if errno == EINTR { continue }
                throw .failed(path: temporary, errno: errno)
            }
            written += count
        }
    }

    /// Flushes the bytes to disk, renames the file over `path`, and flushes the folder.
    func commit() throws(OutputFile.OutputError) {
        guard fsync(descriptor) == 0 else { throw .failed(path: temporary, errno: errno) }
        close(descriptor)
        descriptor = -1
        guard rename(temporary, path) == 0 else { throw .failed(path: path, errno: errno) }
        let folder = (path as NSString).deletingLastPathComponent
        let folderDescriptor = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY)
        if folderDescriptor >= 0 {
            fsync(folderDescriptor)
            close(folderDescriptor)
        }
    }

    /// Removes the temporary file; `path` stays as it was.
    func abandon() {
        guard descriptor >= 0 else { return }
        close(descriptor)
        descriptor = -1
        unlink(temporary)
    }
}

/// A file read with `read(2)`.
final class InputFile {
    let path: String
    private let descriptor: Int32

    /// Opens `path`; `nil` when it does not exist.
    init?(path: String) throws(OutputFile.OutputError) {
        self.path = path
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return nil }
            throw .failed(path: path, errno: errno)
        }
    }

    deinit { close(descriptor) }

    /// Starts reading again from the first byte.
    func rewind() throws(OutputFile.OutputError) {
        guard lseek(descriptor, 0, SEEK_SET) == 0 else { throw .failed(path: path, errno: errno) }
    }

    /// Reads into `buffer`; 0 at the end of the file.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(OutputFile.OutputError) -> Int {
        while true {
            let count = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR { throw .failed(path: path, errno: errno) }
        }
    }
}
