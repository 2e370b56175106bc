import TSMGuest
import TSMGuests

/// The one listing line: tsmfs's guests and the toy.
enum ToyGuests {
    static let catalogue = GuestCatalogue(Guests.all + [ToyGuest.self])
}
