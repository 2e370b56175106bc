extension MockRSAKeys {
    /// The mock ASVK's key (PKCS#1 PEM), the AMD SEV VLEK signing key that issues VLEKs. NOT AMD's: a
    /// published mock key, generated as the ARK's and ASK's were.
    static let asvkPEM = """
        -----BEGIN RSA PRIVATE KEY-----
        MIIJJwIBAAKCAgEAzX5ZOcd6ovI5PVNiT5pw0mOupkNSs4lkjgqHtrUnsXsSoRYV
        tdp1S17ymekSyZQU3mzJph2t5vfFPgJS/Sa3kozk4N0rYeaUgX8LNeHP5faoqat4
        2qJ5bPIru3TbczDXn16ATnZUn6hlbugwMEKvnPgKTP0Kq1W9sKZdnSrTTzBtAp+q
        vr2AkQQkILQq0pYmA8VWNG4h68326iWR4iNC8WQF1lnmA6m94VRcM7rI4/LKxRUp
        4EiQnnOGD7wn/Eb6q/p04taSNBNRDzLmAa3pGn7lNGnhnJK36u1v5Vpqrr3cSqUs
        NOqEiXCWGKEnLzuZHldTua2CNnWiB8Z8O7kHA+PhJKcUFniirbcTAiieYUXxJHRH
        lakBsUlS/WUNo11ZmRl6+KgOXdCs5VkJpekI2j/MMn1E6UqVLd9ctqrkWNWNQCS6
        OWnDoJMm9twV1DsWxWrV8kAo6eXuUMEVggxmB63/hXoAOV+ChwKql0QtJjR0yd7a
        0xQ2oy6OcVGrpzJpOWYVSvQSf1asCfIhuiTo5cbDOGzy4F/ZaNNCtgVHYSigGOX/
        XhUgcavAt4DJ1dPnlMzohVqEpgtN0DB7Or7UMzNfiJrC2jR7huXLY+Dc0tN9cAz8
        XSK9ALzogrt6VumihCDTzIstNdQ/viKEDIyLoXGjTsLbYXySwi/nqDeQD88CAwEA
        AQKCAf9R4AWs/83dHqWvyYliLibFrPHpTOmmnxdxgMCSC5vFG0RQ6nu7+U7CuRHw
        QO07Y8Ts2mt9xFWFsTLlggeO1d5OhdSrw3OFjlmdPwE4dsBe3+hTsf51HkdDITpL
        dkP5oXxIA18b5AnTk0TW66xHjkpqQGnaQvf9TCxINgEWnfmTk7fbU8K0PMz8+qlq
        Xl6xiSGcXwP53+ekDGxU3qNBdss1YqTwwuDilL8TCIm0Erf4GsSvwb7tnfwBJgZE
        PrOv0JgP7bqkptmZ5hhl9eGuyZwW8nhgac96kvq0n+X1fBEFjqA3HZh/fPFR0Yn8
        RjlWmGhprmGtmXRIPpZQgsT9BrvEGiswpAFLLsM2H2LHANepedH0CZVVTz/zK5nq
        q4yiUX4FgqMA2+pKepnxE1i1kGrkKMzDSHHHJATQQpRZUyLLndL26msjlI9lWyIn
        NMdkmBAbIiZIKp4tn1LCaYhn0FvvpHFZaGv38smCbXmBGwGe+gM5B/l/IQM07eUd
        4pJAaRoINumftkhKu9TueuHvk4vNND+emZsgkEGEoNqCaOq7sKD7NNVM0vIwUtxG
        Riez7eATnUlKMj9O2mqvHg9PWgNqYqVMjD/Ojn9neTV+1CbPMfIM7dY/ft5ngPfx
        eq+ZfaQ5YHk6GHX6qeeCFu8o+vLvCi3KN02m9qDuG0HR2dgxAoIBAQDsoyL8fYo/
        KWooxBjxZjRh5w03XqrFSPM7fVIMr9IrtMeQbWKB4lvNyuL0yJ3s11Df4tOmumlC
        MUO5zZ2sRhxIKl1/zfbiC16uVwKXHIfD7lB30DHxhTOIwwSUh71SMcLEisD3IiBC
        FaFbMinSam+okZRVHOwoVaz16aIgsCzx3cWyPYbhfuX8WOtDeWez7EFHThzL5l1v
        rX+MowJmN4qKYiLc0PjQOJE38CqhWKbpqlGW6lJbn8Axvhlh4g6sXAVfKUYS2NYZ
        dwxGPgqwlup11hqDJeg/LJb2p+0O6VU5PEdeWHX50AULDuVOfG41f9N+8ta11aIO
        6c0W7pBInoGDAoIBAQDeTtd6aYk+Wig8ftkuIm1YykTFmi7sTCtuVXNyzf6z1ilf
        Pn5RCwEFqbztkeKP9CiN3QRG9kTWtFfgztL13zCf6PTdr+MpGjMLpAJ52a1pdwOD
        8yPn/TNATXoDqdVs/a5R6r/dy5WtGOylACCxu96/ANOLwZjbiskw2+jXaZDiy5iO
        ValoJShfCKpy44N8U4mEWfFXstfYnyhPuva5mYTIAAqHIxXQ1kataqgko2/1VliR
        8eP7CUd64TByYOJBWCLKBNskp97yGKffRKRjWuT8YvP4jTpUNk+9yYB4yojGYe7o
        4zwKnkIKvPb2DoV0490I/rNLiJaaIbH/Z7XHoSLFAoIBADpPVK6s7KT1upADCjZp
        vdymB46uSBxHBpCRJ+eyZ3KXoFlJau2gboi+RsCUsr2KrQYOKaM66fcClrKxJPov
        aIar0dBNW1mF/bWuARhlUlsIXVG4vqXJ8dHwZC+JZzBazKiLnFMJWLOQCuui58VO
        rub1wHxcnSCvQ+hwwp+Vae3LfQyXtqXYFCnja018G/6s58T/TX8866c6NGTeQhgX
        9Y518itBXx5H4hjLmGWbp72KV4J9iP/E1KItOqnw/zafkj9Jt1erkM5DlIW2ggHT
        nkCdGnlYnOr8PNLYvERhYLuyy89GswN0q9l2uTBm3u1V6zKr+hZiZwWPvRa6gFk0
        nasCggEAFFGUdEXNG3vWDaFybDsNT349RupOu55CofUBdk7Jpto+Mcxecz3UPBZF
        hFk/IfUo975ps6qypAUbuxpsQbjCkvsR1mlLE+inHbtB1q1Eok0Ubyz77SpBUvFB
        46/UKAAPvMD+BGGlLosGphYa5uPK+h4zN6TcOcS3mtWetIGbkn8VVH0T3Mb4p6b9
        HT8aN3TTLtuhqWhZPh1d69ukzVXwwu7uB2f3iHztPNBwydh+VSgtNDmtorY4aEzI
        xsuAIoTRuTE0bmdBg1MplMiLVeFq6H6K2f7eg+/q3efa7C9mzOsKkRKj3DyWwLCA
        ygCNxh9Fhprw/Ehhq3jE8hkijjp2GQKCAQEAvJx+SWyrA/HdAlJyTHKhxJvUgb5s
        WeIcktAWT2cuF6RRfiwby4ZMoweQZSntJy5Xv3O1/OGKx3Sh1nxteSDMVFJ/jaLb
        vg4rW+Qtb7Gp2X1yelsu6FviwkSv+I8gYcXrwwqz1WV6Uw3o77PpK61LPctlwfcI
        9mdAldVIpHMxNQXmlc4JjagSSr+TBDHLRJ5zR3rGIAQMQYrYpdmZg3Kmhr0dCytq
        2NeS3avAz9zlSrE3S184YNsD+ALu+Wn/C5lB3SjmolF/tgzZdLtsHdnXHG6FAptd
        6KVVE11jzXQUI92ag+hXT/YXlaSZA8vLP5X/HRZiEfcMPsVy2i6/XoTpdw==
        -----END RSA PRIVATE KEY-----
        """
}
