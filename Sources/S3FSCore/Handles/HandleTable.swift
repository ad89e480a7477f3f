
/// Open handles by number. Numbers start at 1 and are never reused within a mount, so a stale number from the
/// kernel can only miss, never reach another file.
final class HandleTable<Handle: Sendable>: Sendable {
    private struct State {
        var handles: [UInt64: Handle] = [:]
        var next: UInt64 = 1
    }

    private let state = SleepingLock(State())

    func insert(_ handle: Handle) -> UInt64 {
        state.withLock { state in
            let number = state.next
            state.next += 1
            state.handles[number] = handle
            return number
        }
    }

    func get(_ number: UInt64) -> Handle? { state.withLock { $0.handles[number] } }

    @discardableResult
    func remove(_ number: UInt64) -> Handle? { state.withLock { $0.handles.removeValue(forKey: number) } }

    var count: Int { state.withLock { $0.handles.count } }
}
