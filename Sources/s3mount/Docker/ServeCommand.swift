import ArgumentParser

/// `s3mount serve KIND`: s3mount as a long-running service for another program; today `docker`, the volume
/// plugin (DockerPluginCommand).
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "s3mount serve",
        abstract: "Run s3mount as a service for another program.",
        subcommands: [DockerPluginCommand.self]
    )
}
