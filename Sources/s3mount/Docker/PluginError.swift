/// A reason the plugin refuses a request (sent to dockerd as {"Err": …}) or cannot start: what is wrong and the
/// fix, on one line.
struct PluginError: CommandFailure {
    var description: String
    init(_ description: String) { self.description = description }
}
