import Dispatch
import FishConsole
public import FishServices
import Foundation

/// Measures how long the console takes to produce a frame (key handling, drawing into the grid,
/// and the frame diff) during a burst of key presses while a training job runs in the background.
public enum ConsoleBenchmark {
    public struct Report: Sendable, Codable {
        public let seconds: Double
        public let frames: Int
        public let p50Ms: Double
        public let p95Ms: Double
        public let p99Ms: Double
        public let maxMs: Double
        /// Frames over 50 ms.
        public let slowFrames: Int
        public let trainingFinished: Bool
    }

    /// The keys the burst cycles through: switching views, moving, filtering, drilling in and out.
    static let script: [Key] = {
        func command(_ name: String) -> [Key] { [.character(":")] + name.map { .character($0) } + [.enter] }
        return command("runs") + [
            .down, .down, .up, .character("/"), .character("t"), .character("r"), .escape, .enter, .character("m"),
            .escape,
        ] + command("models") + [.enter, .down, .character("h"), .escape, .escape]
            + command("train") + [.down, .up] + command("overview") + command("logs") + [.character("?"), .escape]
    }()

    /// Runs the burst for `seconds` at 80x24 in a scratch home while `data` trains there.
    public static func run(context: ServiceContext, data: String, seconds: Double) throws -> Report {
        let scratch = try ScratchHome(copying: context)
        let settings = ConsoleApp.Settings(depth: .c256, glyphs: .unicode, theme: Theme(), actions: ActionRegistry())
        let app = ConsoleApp(context: scratch.context, settings: settings)
        var spec = TrainingSpec(data: data)
        spec.trials = 4
        app.training = TrainingMonitor(spec: spec, context: scratch.context, log: app.log, wake: app.wake)
        var previous: Canvas?
        var durations: [Double] = []
        let start = DispatchTime.now()
        var step = 0
        while Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9 < seconds {
            let began = DispatchTime.now()
            app.handle(script[step % script.count])
            app.tick()
            var canvas = Canvas(width: 80, height: 24)
            app.render(into: &canvas)
            _ = canvas.changes(since: previous)
            previous = canvas
            durations.append(Double(DispatchTime.now().uptimeNanoseconds - began.uptimeNanoseconds) / 1e6)
            step += 1
            usleep(10_000)  // a fast typist: 100 keys a second
        }
        let finished = app.training?.snapshot.finished ?? false
        app.training?.cancel()
        while !(app.training?.snapshot.finished ?? true) { usleep(10_000) }
        withExtendedLifetime(scratch) {}
        let sorted = durations.sorted()
        func percentile(_ p: Double) -> Double {
            sorted.isEmpty ? 0 : sorted[min(Int(Double(sorted.count) * p), sorted.count - 1)]
        }
        return Report(
            seconds: seconds, frames: sorted.count, p50Ms: percentile(0.5), p95Ms: percentile(0.95), p99Ms: percentile(0.99),
            maxMs: sorted.last ?? 0, slowFrames: sorted.filter { $0 > 50 }.count, trainingFinished: finished)
    }
}
