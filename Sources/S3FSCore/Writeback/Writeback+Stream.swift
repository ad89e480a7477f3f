// Streaming: a new file written sequentially sends each part as soon as all of its bytes are written, in the
// background, so that by close only the tail is left to upload. A file that stops being append-only (a write
// elsewhere than its end, a truncate) ends its stream: the parts are given up and the file is uploaded after close.
import ObjectStore

extension Writeback {
    /// After a write: hands off the parts that are now complete, or ends a stream the write broke.
    func noteWrite(_ file: StagedFile) {
        let (handoffs, broken) = file.state.withLock { state -> ([Int], Bool) in
            guard !state.removed else { return ([], false) }
            guard state.appendOnly else { return ([], state.stream != nil) }
            // Two full parts at least: a file that ends up smaller goes in one PutObject.
            if state.stream == nil {
                guard state.size >= 2 * layout.size(of: 1) else { return ([], false) }
                state.stream = MultipartStream(key: state.key, layout: layout)
            }
            guard var stream = state.stream, stream.key == state.key else { return ([], false) }
            var ready: [Int] = []
            // The part after the next must have begun, so the one handed off cannot be the file's last (short) one.
            while stream.handedOff + stream.layout.size(of: stream.nextPart) < state.size {
                ready.append(stream.nextPart)
                stream.handedOff += stream.layout.size(of: stream.nextPart)
                stream.nextPart += 1
            }
            state.stream = stream
            return (ready, false)
        }
        if broken { endStream(of: file) }
        for number in handoffs { startStreamPart(file, number: number) }
    }

    private func startStreamPart(_ file: StagedFile, number: Int) {
        let key = file.key
        let task = Task { [self] in
            do {
                let upload = try await streamUpload(file, key: key)
                let layout = file.state.withLock { $0.stream?.layout } ?? self.layout
                let end = layout.offset(of: number) + layout.size(of: number)
                try await uploadPart(file, upload: upload, key: key, number: number, layout: layout, fileSize: end)
            } catch {
                // The upload after close sends whatever part is missing again.
                logger.debug("streamed part failed", metadata: ["s3.key": "\(key)", "part": "\(number)", "error": "\(error)"])
            }
            _ = file.state.withLock { $0.stream?.running.removeValue(forKey: number) }
        }
        file.state.withLock { state in
            guard state.stream != nil else { return task.cancel() }
            state.stream?.running[number] = task
        }
    }
}
