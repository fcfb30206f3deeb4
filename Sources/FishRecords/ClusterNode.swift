/// A machine (Slurm node) or the local pool, as the cluster view shows it.
public struct ClusterNode: Sendable, Codable, Equatable {
    public var name: String
    public var state: String
    public var cpus: Int
    public var allocatedCPUs: Int
    public var memoryMB: Int?
    public var freeMemoryMB: Int?
    public var load: Double?
    public var reason: String?

    public init(name: String, state: String, cpus: Int, allocatedCPUs: Int) {
        self.name = name
        self.state = state
        self.cpus = cpus
        self.allocatedCPUs = allocatedCPUs
    }
}
