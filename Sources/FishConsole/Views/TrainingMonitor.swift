public import FishServices
import Foundation
import Synchronization

/// A training job started from the console: runs `TrainingService` on a background thread and
/// keeps a snapshot of its progress for the views.
public final class TrainingMonitor: Sendable {
    public struct State: Sendable {
        public var runId: String?
        public var stage: PipelineStageName?
        public var done = 0, total = 0
        /// Validation loss and accuracy per epoch of the first trial (the chart), and finished trials.
        public var validationLoss: [Double] = []
        public var validationAccuracy: [Double] = []
        public var trialsFinished = 0
        public var check: DatasetCheck?
        public var report: TrainingReport?
        public var error: String?
        public var finished: Bool { report != nil || error != nil }
    }

    public let spec: TrainingSpec
    private let state = Mutex(State())
    private let cancellation = CancellationFlag()

    /// Starts training `spec` in the background; `log` gets the milestones, `wake` every event.
    public init(spec: TrainingSpec, context: ServiceContext, log: EventLog, wake: @escaping @Sendable () -> Void) {
        self.spec = spec
        Thread.detachNewThread { [self] in
            do {
                let report = try TrainingService(context: context).train(spec, cancellation: cancellation) { event in
                    self.state.withLock { Self.apply(event, to: &$0) }
                    if case let .started(runId) = event { log.add("training run \(runId.prefix(8)) started on \(spec.data)") }
                    wake()
                }
                self.state.withLock { $0.report = report }
                log.add(
                    String(
                        format: "training finished: %@ v%d, test macro-F1 %.4f", report.model.name,
                        report.model.version, report.evaluation.macroF1))
            } catch {
                self.state.withLock { $0.error = "\(error)" }
                log.add("training stopped: \(error)", isError: !(error as? ServiceError == .cancelled))
            }
            wake()
        }
    }

    public var snapshot: State { state.withLock { $0 } }

    public func cancel() { cancellation.cancel() }

    static func apply(_ event: TrainingEvent, to state: inout State) {
        switch event {
        case let .started(runId): state.runId = runId
        case let .stage(stage): (state.stage, state.done, state.total) = (stage, 0, 0)
        case let .progress(_, done, total): (state.done, state.total) = (done, total)
        case let .checked(check): state.check = check
        case let .epoch(trial, record) where trial == 0:
            state.validationLoss.append(record.validationLoss)
            state.validationAccuracy.append(record.validationAccuracy)
        case .epoch: break
        case let .fineTuneEpoch(record):  // the chart continues with the fine-tuning epochs
            state.validationLoss.append(record.validationLoss)
            state.validationAccuracy.append(record.validationAccuracy)
        case .trialFinished: state.trialsFinished += 1
        }
    }
}
