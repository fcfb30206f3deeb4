import FishFuzzHarnesses
import Foundation

// Built with `-sanitize=fuzzer,address -D FISHOPS_FUZZ` (make fuzz), libFuzzer's own main drives
// `LLVMFuzzerTestOneInput` for the harness named by FISHOPS_FUZZ_HARNESS. Otherwise this is a
// replayer: `fishops-fuzz HARNESS FILE...` runs each file through the harness once.

#if FISHOPS_FUZZ
    import CFuzzer

    /// The harness FISHOPS_FUZZ_HARNESS names, or nil.
    private let selected = FuzzHarness(rawValue: ProcessInfo.processInfo.environment["FISHOPS_FUZZ_HARNESS"] ?? "")

    /// One input, as libFuzzer calls it.
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOne(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
        selected?.run(bytes.map { Data(bytes: $0, count: count) } ?? Data())
        return 0
    }

    @main
    struct Fuzz {
        static func main() {
            guard selected != nil else {
                let names = FuzzHarness.allCases.map(\.rawValue).joined(separator: ", ")
                FileHandle.standardError.write(Data("set FISHOPS_FUZZ_HARNESS to one of: \(names)\n".utf8))
                exit(2)
            }
            var argc = CommandLine.argc
            var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
            exit(LLVMFuzzerRunDriver(&argc, &argv) { fuzzOne($0, $1) })
        }
    }
#else
    @main
    struct Replay {
        static func main() {
            let arguments = CommandLine.arguments.dropFirst()
            guard let name = arguments.first, let harness = FuzzHarness(rawValue: name) else {
                let names = FuzzHarness.allCases.map(\.rawValue).joined(separator: "|")
                FileHandle.standardError.write(Data("usage: fishops-fuzz \(names) FILE...\n".utf8))
                exit(2)
            }
            for file in arguments.dropFirst() {
                guard let data = FileManager.default.contents(atPath: file) else {
                    FileHandle.standardError.write(Data("\(file): cannot read\n".utf8))
                    exit(1)
                }
                harness.run(data)
            }
        }
    }
#endif
