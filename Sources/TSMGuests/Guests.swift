import TSMGuest

/// The guests tsmfs plays, in the order `--help`, `tsmfs kernels` and messages list them. A guest
/// is added by one folder beside these and one line here.
public enum Guests {
    public static let all: [any GuestDefinition.Type] = [
        TDXGuest.self,
        SNPGuest.self,
        CCAGuest.self,
    ]

    public static let catalogue = GuestCatalogue(all)
}
