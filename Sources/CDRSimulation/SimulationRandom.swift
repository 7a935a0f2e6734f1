/// The simulator's random source: SplitMix64 plus the distributions a CDR day needs.
///
/// Every value depends only on the seed: no system generator, and no libm. `log` and `exp`
/// are computed here with IEEE-754 arithmetic alone (which every machine rounds the same),
/// because libm implementations may differ in the last bit between C libraries and so
/// change a simulated day. `sqrt` is correctly rounded by IEEE-754 and safe to use.
public struct SimulationRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A generator for one part of the simulation, independent of the order in which the
    /// parts are drawn: the same seed and `stream` always give the same sequence.
    public init(seed: UInt64, stream: UInt64) {
        var mixer = SimulationRandom(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        state = mixer.next()
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }

    /// Uniform in [0, 1), 53 bits.
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform integer in `range`.
    public mutating func int(_ range: Range<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    /// `true` with probability `probability`.
    public mutating func chance(_ probability: Double) -> Bool { unit() < probability }

    /// Exponential with the given mean.
    public mutating func exponential(mean: Double) -> Double {
        -mean * DeterministicMath.log(1 - unit())
    }

    /// Standard normal (Marsaglia's polar method: no trigonometry).
    public mutating func normal() -> Double {
        while true {
            let u = 2 * unit() - 1
            let v = 2 * unit() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 { return u * (-2 * DeterministicMath.log(s) / s).squareRoot() }
        }
    }

    /// Log-normal with the given median and shape σ.
    public mutating func logNormal(median: Double, sigma: Double) -> Double {
        median * DeterministicMath.exp(sigma * normal())
    }

    /// Poisson with the given mean (inversion for small means, a normal approximation above 30).
    public mutating func poisson(mean: Double) -> Int {
        guard mean > 0 else { return 0 }
        if mean > 30 { return max(0, Int((mean + mean.squareRoot() * normal()).rounded())) }
        let limit = DeterministicMath.exp(-mean)
        var product = unit()
        var count = 0
        while product > limit {
            product *= unit()
            count += 1
        }
        return count
    }

    /// An element chosen with probability proportional to its weight.
    public mutating func weighted(_ weights: [Double]) -> Int {
        let total = weights.reduce(0, +)
        var target = unit() * total
        for (index, weight) in weights.enumerated() {
            target -= weight
            if target < 0 { return index }
        }
        return weights.count - 1
    }
}

/// `log` and `exp` from IEEE-754 arithmetic only, accurate to about 1e-15 relative.
public enum DeterministicMath {
    private static let ln2 = 0.693_147_180_559_945_309_42

    /// Natural logarithm of a positive finite number.
    public static func log(_ x: Double) -> Double {
        guard x > 0, x.isFinite else { return x == 0 ? -.infinity : .nan }
        // x = m · 2^e with m in [√½, √2), then ln m = 2·atanh((m−1)/(m+1)).
        var exponent = Double(x.exponent)
        var mantissa = x.significand
        if mantissa > 1.414_213_562_373_095 {
            mantissa /= 2
            exponent += 1
        }
        let t = (mantissa - 1) / (mantissa + 1)
        let t2 = t * t
        var term = t
        var sum = 0.0
        var denominator = 1.0
        for _ in 0..<14 {
            sum += term / denominator
            term *= t2
            denominator += 2
        }
        return exponent * ln2 + 2 * sum
    }

    /// e to the power `x`.
    public static func exp(_ x: Double) -> Double {
        if x > 709 { return .infinity }
        if x < -745 { return 0 }
        // x = k·ln2 + r with |r| ≤ ln2/2, then eˣ = 2ᵏ · eʳ, eʳ by its Taylor series.
        // ln2 in two parts (Cody and Waite), so k·ln2 is exact to well past double precision.
        let k = (x / ln2).rounded()
        let r = (x - k * 6.931_471_803_691_238_164_90e-01) - k * 1.908_214_929_270_587_700_02e-10
        var term = 1.0
        var sum = 1.0
        for n in 1...18 {
            term *= r / Double(n)
            sum += term
        }
        return Double(sign: .plus, exponent: Int(k), significand: sum)
    }
}
