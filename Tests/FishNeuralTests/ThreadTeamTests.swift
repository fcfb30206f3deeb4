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
