import FishNeural
import Foundation
import Testing

@Suite struct CPUPinningTests {
    /// The calling thread's CPUs as the kernel lists them ("0-1", "1").
    func allowedCPUs() throws -> String {
        let status = try String(contentsOfFile: "/proc/thread-self/status", encoding: .utf8)
        let line = status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") }
        return String(line?.split(separator: "\t").last ?? "")
    }

    /// Inside the body the thread may use one CPU, a different one for each index up to the
    /// number it may use (then the same again); afterwards it may use all of them again.
    @Test func bodyRunsPinnedToTheChosenCPU() throws {
        let before = try allowedCPUs()
        let count = ProcessInfo.processInfo.activeProcessorCount
        var pinned: [String] = []
        for index in 0..<(2 * count) {
            var inside = ""
            CPUPinning.run(onCPU: index) { inside = (try? allowedCPUs()) ?? "" }
            pinned.append(inside)
            #expect(try allowedCPUs() == before)
        }
        #expect(pinned.allSatisfy { !$0.isEmpty && Int($0) != nil }, "\(pinned)")
        #expect(Set(pinned).count == count)
        #expect(Array(pinned.prefix(count)) == Array(pinned.suffix(count)))
    }
}
