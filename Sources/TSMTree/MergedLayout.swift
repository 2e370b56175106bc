import FuseKit
import TSMModel

/// The merged (6.16) layout: flat `measurements/` files under a misc device, and the
/// `class/misc/<device>` link to it.
public enum MergedLayout {
    public enum Problem: Error, Equatable, CustomStringConvertible {
        case unknownRegister(device: String, file: String, register: String)

        public var description: String {
            switch self {
            case .unknownRegister(let device, let file, let register):
                return "device \(device): file \(file) names register '\(register)', which its provider does not have"
            }
        }
    }

    /// Adds `sys/devices/virtual/misc/<device>/measurements/...` and
    /// `sys/class/misc/<device> -> ../../devices/virtual/misc/<device>` under `sys`.
    public static func add(
        _ device: MeasurementsDevice, provider: MeasurementProvider,
        to builder: inout TreeBuilder, sys: InodeNumber
    ) throws(Problem) {
        let deviceDirectory = builder.addDirectories("devices/virtual/misc/\(device.device)", in: sys)
        let measurements = builder.addDirectory("measurements", in: deviceDirectory)
        for file in device.files {
            guard let index = provider.table.indexByName[file.register] else {
                throw .unknownRegister(device: device.device, file: file.name, register: file.register)
            }
            builder.addFile(
                file.name, in: measurements,
                RegisterAttribute(provider: provider, index: index, face: .merged(permissions: file.permissions)))
        }
        let classMisc = builder.addDirectories("class/misc", in: sys)
        builder.addSymbolicLink(device.device, in: classMisc, target: "../../devices/virtual/misc/\(device.device)")
    }

    /// A misc device without `measurements/` (before 6.16): `sys/devices/virtual/misc/<device>`
    /// and its `sys/class/misc` link.
    public static func addPlain(_ device: String, to builder: inout TreeBuilder, sys: InodeNumber) {
        _ = builder.addDirectories("devices/virtual/misc/\(device)", in: sys)
        let classMisc = builder.addDirectories("class/misc", in: sys)
        builder.addSymbolicLink(device, in: classMisc, target: "../../devices/virtual/misc/\(device)")
    }
}
