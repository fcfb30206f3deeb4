import Foundation

/// A file operation's failure as "PATH: reason" in the system's words ("No space left on device",
/// "Permission denied"), not Foundation's error domain and code.
public func describeFileError(_ error: any Error) -> String {
    let nsError = error as NSError
    guard nsError.domain == NSCocoaErrorDomain else { return "\(error)" }
    let path = (nsError.userInfo[NSFilePathErrorKey] as? String) ?? (nsError.userInfo[NSURLErrorKey] as? URL)?.path
    let reason: String
    if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
        reason = String(cString: strerror(Int32(underlying.code)))
    } else {
        reason = nsError.localizedDescription
    }
    return path.map { "\($0): \(reason)" } ?? reason
}
