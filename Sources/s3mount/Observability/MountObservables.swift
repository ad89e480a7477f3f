// MountObservables: the running mount's parts that operators look into — the endpoint pool, the filesystem
// core and the FUSE bridge — plus what identifies the mount. Shared by /metrics (ScrapeGauges), the control
// socket (StatusReport) and --stats-file; holds no credentials.
import EndpointPool
import FuseBridge
import S3FSCore

struct MountObservables: Sendable {
    let mountpoint: String
    let bucket: String
    let prefix: String
    let started: Double
    let pool: EndpointPool
    let fileSystem: FileSystem
    let mount: FuseMount
}
