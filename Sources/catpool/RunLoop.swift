import CDRInput
import CDRPipeline
import Glibc

/// Drives one run: reader thread → pipeline → outputs, then statistics and the exit status.
struct RunLoop {
    let options: InputOptions
    let configuration: PipelineConfiguration

    /// Runs to the end of the inputs and returns how the process should exit.
    func run() -> ExitStatus {
        let started = monotonicSeconds()
        if options.inputs.contains("-"), isatty(0) == 1 {
            printError("reading CDRs from a terminal; pipe a dump in or name files (see --help)")
            return .usage
        }
        let rejectsFile: OutputFile?
        do {
            rejectsFile = try options.rejects.map { path throws(OutputFile.OutputError) in
                try OutputFile(creating: path)
            }
        } catch {
            printError("\(error)")
            return .ioError
        }
        let standardOutput = OutputFile(descriptor: 1, path: "stdout", capacity: 64 * 1024)
        var pipeline: Pipeline
        do {
            pipeline = try Pipeline(configuration: configuration)
        } catch {
            printError("\(error)")
            return .usage
        }
        let reader = DecodingReader(inputs: options.inputs)
        reader.start()
        if configuration.detection?.runsOnOwnThread == true { lowerThreadPriority() }
        var output = PipelineOutput()
        var status = ExitStatus.success
        var inputName = "-"

        func drain() throws(OutputFile.OutputError) {
            for message in output.diagnostics where !options.quiet { printError(message) }
            if !output.events.isEmpty {
                try standardOutput.write(output.events)
                try standardOutput.flush()
            }
            if let rejectsFile, !output.rejects.isEmpty { try rejectsFile.write(output.rejects) }
            output.removeAll()
        }

        do {
            reading: while true {
                if !reader.waitForEvent(seconds: 0.05) {
                    // The input has gone quiet (a live feed): put out every decision the
                    // records so far have made before waiting for more.
                    pipeline.flushDetection(into: &output)
                    try drain()
                }
                switch reader.next() {
                case .begin(let name):
                    inputName = name
                    pipeline.beginInput(named: name)
                case .data(let buffer, let count):
                    try pipeline.feed(
                        UnsafeRawBufferPointer(rebasing: buffer[..<count]), into: &output)
                    reader.recycle(buffer)
                case .end(let bytesIn, let format):
                    try pipeline.finishInput(
                        bytesIn: bytesIn, format: format, isCutShort: false, into: &output)
                case .corrupt(let error, let bytesIn, let format):
                    try pipeline.finishInput(
                        bytesIn: bytesIn, format: format, isCutShort: true, into: &output)
                    try drain()
                    printError("\(inputName): \(error)")
                    status = .dataError
                    break reading
                case .unreadable(let name, let reason):
                    if name == inputName, pipeline.statistics.inputs.last?.name == name {
                        try pipeline.finishInput(
                            bytesIn: 0, format: nil, isCutShort: true, into: &output)
                    }
                    try drain()
                    printError("cannot read \(name): \(reason)")
                    status = .ioError
                    break reading
                case .finished:
                    pipeline.finish(into: &output)
                    try drain()
                    break reading
                }
                try drain()
            }
        } catch let error as PipelineError {
            try? drain()
            printError("\(error)")
            status = .dataError
        } catch OutputFile.OutputError.closed {
            return .success  // the reader of stdout has gone: a normal end
        } catch {
            printError("\(error)")
            return .ioError
        }

        let seconds = monotonicSeconds() - started
        let statistics = pipeline.statistics
        do {
            try rejectsFile?.flush()
            try standardOutput.flush()
            if let path = options.stats {
                let file = try OutputFile(creating: path)
                try file.write(statistics.json(seconds: seconds))
                try file.flush()
            }
        } catch OutputFile.OutputError.closed {
            return .success
        } catch {
            printError("\(error)")
            return .ioError
        }
        if !options.quiet { printError(statistics.summary(seconds: seconds)) }
        if status == .success, statistics.rejectRatio > options.maxRejectRatio {
            printError(
                "rejected \(statistics.rejected) of \(statistics.dataLines) data lines "
                    + "(\(formatDecimal(statistics.rejectRatio * 100, fractionDigits: 2)) %), "
                    + "more than --max-reject-ratio \(formatDecimal(options.maxRejectRatio, fractionDigits: 4))"
            )
            status = .dataError
        }
        return status
    }
}

func monotonicSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}
