import CDRSimulation
import Foundation
import Testing

struct SimulationRandomTests {
    @Test(arguments: [1e-300, 1e-9, 0.001, 0.5, 0.7071, 1, 1.5, 2, 10, 12345.678, 1e300])
    func logMatchesTheLibraryClosely(x: Double) {
        #expect(
            abs(DeterministicMath.log(x) - Foundation.log(x)) <= 1e-13
                * max(1, abs(Foundation.log(x))))
    }

    @Test(arguments: [-700.0, -20, -1, -1e-9, 0, 0.3, 1, 5.5, 100, 700])
    func expMatchesTheLibraryClosely(x: Double) {
        #expect(abs(DeterministicMath.exp(x) - Foundation.exp(x)) <= 1e-14 * Foundation.exp(x))
    }

    @Test func sameSeedSameSequenceAndStreamsDiffer() {
        var a = SimulationRandom(seed: 7, stream: 3)
        var b = SimulationRandom(seed: 7, stream: 3)
        var c = SimulationRandom(seed: 7, stream: 4)
        let first = (0..<100).map { _ in a.next() }
        #expect(first == (0..<100).map { _ in b.next() })
        #expect(first != (0..<100).map { _ in c.next() })
    }

    @Test func distributionsHaveTheirMeans() {
        var random = SimulationRandom(seed: 11)
        let count = 200_000
        let poisson =
            (0..<count).map { _ in Double(random.poisson(mean: 3.5)) }.reduce(0, +) / Double(count)
        let exponential =
            (0..<count).map { _ in random.exponential(mean: 60) }.reduce(0, +) / Double(count)
        let normals = (0..<count).map { _ in random.normal() }
        let mean = normals.reduce(0, +) / Double(count)
        let variance = normals.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(count)
        var medianSample = (0..<count).map { _ in random.logNormal(median: 40, sigma: 1) }
        medianSample.sort()
        #expect(abs(poisson - 3.5) < 0.03)
        #expect(abs(exponential - 60) < 0.6)
        #expect(abs(mean) < 0.01 && abs(variance - 1) < 0.02)
        #expect(abs(medianSample[count / 2] - 40) < 1)
    }
}
