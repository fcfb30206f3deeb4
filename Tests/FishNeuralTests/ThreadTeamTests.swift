import FishNeural
import Foundation
import Synchronization
import Testing

@Suite struct ThreadTeamTests {
    /// Counts how often each index was visited, from any thread.
    final class Visits: Sendable {
        let counts: Mutex<[Int]>
        init(_ count: Int) { counts = Mutex([Int](repeating: 0, count: count)) }
        func visit(_ range: Range<Int>) { counts.withLock { counts in range.forEach { counts[$0] += 1 } } }
        var all: [Int] { counts.withLock { $0 } }
    }

    @Test func everyIndexRunsOnceInEveryLoop() {
        let team = ThreadTeam(size: 2)
        #expect(team.size == 2)
        for count in [0, 1, 2, 3, 17, 1000] {
            let visits = Visits(count)
            for _ in 0..<50 { team.ranges(count, parts: 2) { visits.visit($0) } }
            #expect(visits.all == [Int](repeating: 50, count: count), "count \(count)")
        }
    }

    /// More chunks than threads: every index once, in ranges that differ in length by at most one.
    @Test(arguments: [2, 3]) func everyIndexRunsOnceWithChunks(parts: Int) {
        let team = ThreadTeam(size: parts)
        for (count, chunks) in [(5, 5), (17, 4), (100, 7), (1000, 125), (9, 40)] {
            let visits = Visits(count)
            let lengths = Mutex<Set<Int>>([])
            for _ in 0..<20 {
                team.ranges(count, parts: parts, chunks: chunks) { range in
                    visits.visit(range)
                    lengths.withLock { _ = $0.insert(range.count) }
                }
            }
            #expect(visits.all == [Int](repeating: 20, count: count), "count \(count), \(chunks) chunks")
            let all = lengths.withLock { $0 }
            #expect(all.min() ?? 0 >= 1 && (all.max() ?? 0) - (all.min() ?? 0) <= 1, "count \(count): lengths \(all)")
        }
    }

    /// A thread held up in its first chunk leaves the rest of its share to the other, which takes
    /// it from the far end.
    @Test func aHeldUpThreadsChunksGoToTheOther() {
        let team = ThreadTeam(size: 2)
        let caller = "\(pthread_self())"
        let ranByCaller = Mutex<[Int]>([])
        let helperStarted = Atomic(false)
        team.ranges(20, parts: 2, chunks: 20) { range in
            if "\(pthread_self())" == caller {
                // Until the helper holds its first chunk (it may still be waking up).
                let deadline = Date().addingTimeInterval(5)
                while !helperStarted.load(ordering: .acquiring) && Date() < deadline { Thread.sleep(forTimeInterval: 0.001) }
                ranByCaller.withLock { $0.append(range.lowerBound) }
            } else {
                helperStarted.store(true, ordering: .releasing)
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
        // Its own ten in order, then the helper's from the back, all but the one the helper holds.
        #expect(ranByCaller.withLock { $0 } == Array(0..<10) + Array((11..<20).reversed()))
    }

    @Test func partsRunOnDifferentThreads() {
        let team = ThreadTeam(size: 2)
        let threads = Mutex<Set<String>>([])
        team.ranges(2, parts: 2) { _ in
            threads.withLock { _ = $0.insert("\(pthread_self())") }
            Thread.sleep(forTimeInterval: 0.01)  // the other part cannot run on this thread meanwhile
        }
        #expect(threads.withLock { $0.count } == 2)
    }

    /// Helpers that have gone to sleep after the spinning period wake for the next loop.
    @Test func sleepingHelpersWakeForTheNextLoop() {
        let team = ThreadTeam(size: 3)
        let visits = Visits(30)
        for _ in 0..<5 {
            Thread.sleep(forTimeInterval: 0.005)
            team.ranges(30, parts: 3) { visits.visit($0) }
        }
        #expect(visits.all == [Int](repeating: 5, count: 30))
    }

    @Test func aTeamOfOneRunsOnTheCaller() {
        let team = ThreadTeam(size: 1)
        let caller = "\(pthread_self())"
        let threads = Mutex<Set<String>>([])
        team.ranges(10, parts: 4) { _ in threads.withLock { _ = $0.insert("\(pthread_self())") } }
        #expect(threads.withLock { $0 } == [caller])
    }
}
