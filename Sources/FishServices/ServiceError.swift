/// Errors of the service layer, with messages that say what to do.
public enum ServiceError: Error, Equatable, CustomStringConvertible {
    case badConfiguration(String)
    case modelNotFound(name: String, available: [String])
    case invalidArgument(String)
    case failed(String)
    /// The operator cancelled the job.
    case cancelled

    public var description: String {
        switch self {
        case let .badConfiguration(reason):
            return "bad configuration: \(reason)"
        case let .modelNotFound(name, available):
            let hint =
                name == FishConfig.baseModelName
                ? "run `make setup` or `fishops weights import FILE` to import the pretrained weights"
                : available.isEmpty
                    ? "no models are installed; run `fishops weights import FILE`"
                    : "installed models: \(available.joined(separator: ", "))"
            return "model \(name) not found: \(hint)"
        case let .invalidArgument(reason):
            return reason
        case let .failed(reason):
            return reason
        case .cancelled:
            return "cancelled"
        }
    }
}
