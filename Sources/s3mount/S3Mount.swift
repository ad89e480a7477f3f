import ArgumentParser

@main
struct S3Mount: AsyncParsableCommand {
    func run() async throws {}
}
