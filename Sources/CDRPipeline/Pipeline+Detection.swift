import CDRRecords
import SIMBoxDetection

// MARK: - Detection

extension Pipeline {
    /// The most cell tokens queued before they are interned (records the detector does not
    /// use queue theirs too).
    static let cellQueueCapacity = 2 * DetectionStage.batchCapacity

    /// Ends the run: evaluates the windows still open and writes the last decisions.
    public mutating func finish(into output: inout PipelineOutput) {
        guard detection != nil else { return }
        if !cellQueue.isEmpty { feedBatch() }
        detection?.finish(into: &detected)
        writeDetected(into: &output)
        evidence?.releaseAll(into: &output.evidence)
    }

    /// Waits until every record fed so far has been through the detection stage and adds
    /// their decisions to `output`: call it before waiting for more input, so a live feed's
    /// decisions go out at once.
    public mutating func flush(into output: inout PipelineOutput) {
        guard detection != nil else { return }
        if !cellQueue.isEmpty { feedBatch() }
        detection?.flush(into: &detected)
        writeDetected(into: &output)
        evidence?.release(before: detected.counts.watermark, into: &output.evidence)
    }

    /// Queues a record the detector uses for the detection stage (its cell still a place in
    /// `cellQueue`).
    @inline(__always)
    mutating func detect(_ record: CallRecord) {
        batch.append(DetectionStage.Item(record: record, location: -1))
        if batch.count == DetectionStage.batchCapacity { feedBatch() }
    }

    /// Interns the queued cells, leaves out the records shed or allowed, locates the others
    /// and hands them to the detection stage.
    ///
    /// Each step runs over the whole batch in one loop: the cell lookups, and the cell →
    /// location loads, which the processor overlaps; made one per record, between parsing
    /// one line and the next, each waited for its cache miss (with 60,000 cells, 0.2 s and
    /// 0.22 s of a 4 M-record day's parsing).
    mutating func feedBatch() {
        var hasOverflowed = false
        cellQueue.resolve(in: cells) { ids in
            batch.withUnsafeMutableBufferPointer { items in
                for index in items.indices {
                    let cell = ids[Int(items[index].record.cell.rawValue)]
                    items[index].record.cell = cell
                    if cell == .overflow { hasOverflowed = true }
                }
            }
        }
        if hasOverflowed || allowList != nil { leaveOutShedAndAllowed() }
        guard !batch.isEmpty else { return }
        let cells = self.cells
        batch.withUnsafeMutableBufferPointer { locations.locate($0, cells: cells) }
        detection?.feed(&batch, into: &detected)
    }

    /// Takes out of the batch the records whose cell came past the cell cap and those the allow
    /// list allows, counting them.
    private mutating func leaveOutShedAndAllowed() {
        var kept = 0
        for index in batch.indices {
            let item = batch[index]
            guard item.record.cell != .overflow else {
                shedForCells += 1
                continue
            }
            if let allowList, isAllowed(item.record, by: allowList) {
                statistics.allowedRecords += 1
                continue
            }
            batch[kept] = item
            kept += 1
        }
        batch.removeLast(batch.count - kept)
    }

    /// Whether the allow list names the record's cell, SIM or number.
    private mutating func isAllowed(_ record: CallRecord, by allowList: AllowList) -> Bool {
        let cell = Int(record.cell.rawValue)
        while allowedCells.count <= cell {
            allowedCells.append(
                allowList.cells.contains(
                    cells.name(of: CellID(rawValue: UInt32(allowedCells.count)))))
        }
        return allowedCells[cell] || allowList.imsis.contains(record.imsi.rawValue)
            || allowList.allowsNumber(record.msisdn)
    }

    /// Hands the chunk's records on to the detection stage and writes the decisions it has
    /// made so far.
    mutating func handOverToDetection(into output: inout PipelineOutput) {
        guard detection != nil else { return }
        if !cellQueue.isEmpty { feedBatch() }
        writeDetected(into: &output)
        evidence?.release(before: detected.counts.watermark, into: &output.evidence)
    }

    /// Writes the decisions the stage has returned and takes in its counts.
    private mutating func writeDetected(into output: inout PipelineOutput) {
        let counts = detected.counts
        statistics.lateRecords = counts.lateRecords
        statistics.shedRecords = counts.shedRecords + counts.shedCalls + shedForCells
        let limitBytes = configuration.detection?.limits.maxBytes ?? 0
        if counts.evictedSIMs > 0, statistics.evictedSIMs == 0 {
            output.warnings.append(.evictingSIMs(limitBytes: limitBytes))
        }
        if counts.shedCalls > 0, !hasWarnedOfSheddingCalls {
            hasWarnedOfSheddingCalls = true
            output.warnings.append(.sheddingCalls(limitBytes: limitBytes))
        }
        if counts.shedRecords + shedForCells > 0, !hasWarnedOfShedding {
            hasWarnedOfShedding = true
            output.warnings.append(.sheddingRecords(limitBytes: limitBytes))
        }
        statistics.evictedSIMs = counts.evictedSIMs
        statistics.peakStateBytes = max(statistics.peakStateBytes, counts.stateBytes)
        statistics.peakSIMs = max(statistics.peakSIMs, counts.simCount)

        let minSeverity = configuration.detection?.minSeverity ?? .low
        for decision in detected.decisions {
            statistics.decisions[decision.kind.rawValue, default: 0] += 1
            // Severity only rises, so a cluster's lines pass from its first at the level on.
            guard decision.severity >= minSeverity else { continue }
            evidence?.note(decision)
            OutputEvent.encode(
                decision, location: locations.locations[Int(decision.location)], cells: cells,
                pseudonymiser: configuration.pseudonymiser, into: &output.events)
        }
        detected.decisions.removeAll(keepingCapacity: true)
    }
}
