// Active health: while an endpoint is out of service, a cheap request (ListObjectsV2 max-keys=1 of the mounted
// prefix) checks whether it answers again. Any answer counts, even an error status other than 5xx/503: the
// gateway is serving. Its outcome moves the breaker (EndpointHealth.probed).

import ObjectStore

extension EndpointPool {
    /// Probes every endpoint whose probe is due, concurrently, each bounded by `probeTimeout`.
    public func probeDueEndpoints() async {
        let now = timing.now()
        let due = healths.indices.filter { healths[$0].probeDue(now: now) }
        await withTaskGroup(of: Void.self) { group in
            for index in due {
                group.addTask { await self.probe(index) }
            }
        }
    }

    private func probe(_ index: Int) async {
        let store = endpoints[index].store
        let request = ListRequest(prefix: config.probePrefix, delimiter: "/", maxKeys: 1)
        let answered = await withTaskGroup(of: Bool?.self) { group in
            group.addTask {
                do throws(ObjectStoreError) {
                    _ = try await store.list(request)
                    return true
                } catch {
                    return RetryPolicy.disposition(of: error) != .endpointFault
                }
            }
            group.addTask { [timing, config] in
                try? await timing.sleep(config.probeTimeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? false
        }
        logger.debug("endpoint probe", metadata: ["s3.endpoint": "\(endpoints[index].name)", "answered": "\(answered)"])
        healths[index].probed(answered: answered, now: timing.now())
    }

    /// The prober loop: every `tick` seconds, probe what is due; it holds the pool weakly and ends with it.
    func startProber(tick: Double) {
        let handle = Task { [weak self, timing] in
            while !Task.isCancelled {
                do {
                    try await timing.sleep(tick)
                } catch {
                    return
                }
                guard let pool = self else { return }
                await pool.probeDueEndpoints()
            }
        }
        prober.withLock { $0 = handle }
    }
}
