// SystemdNotify: the sd_notify protocol for units of Type=notify (CSystem's s3m_sd_notify; no libsystemd). READY=1
// goes out once the mount answers, STOPPING=1 when the daemon starts to unmount, each with a one-line STATUS=.
// Without NOTIFY_SOCKET (not started by systemd) nothing is sent.
import CSystem
import Logging

enum SystemdNotify {
    static func ready(_ status: String, logger: Logger) {
        send("READY=1\nSTATUS=\(status)", logger: logger)
    }

    static func stopping(_ status: String, logger: Logger) {
        send("STOPPING=1\nSTATUS=\(status)", logger: logger)
    }

    private static func send(_ message: String, logger: Logger) {
        let result = unsafe s3m_sd_notify(message)
        if result < 0 {
            logger.warning("cannot notify systemd (NOTIFY_SOCKET)", metadata: ["errno": "\(-result)"])
        }
    }
}
