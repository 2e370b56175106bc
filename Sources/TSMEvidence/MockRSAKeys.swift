/// Two fixed, PUBLISHED RSA-4096 keys: the mock ARK's and the mock ASK's. They are test material,
/// not secrets — anyone can sign with them, which is the point of a mock authority. Generated once
/// with `openssl genrsa -traditional 4096` (deterministic RSA-4096 key generation from a seed would
/// need a prime search on every start; docs/DECISIONS.md "SEV-SNP: an AMD-shaped mock chain").
/// Every seed shares them; the seed still changes the ARK's and ASK's serial numbers (so each seed's
/// ARK pins differently), the VCEK key, CHIP_ID and the PSS salts.
enum MockRSAKeys {
    /// The mock ARK's key (PKCS#1 PEM). NOT AMD's: a published mock key.
    static let arkPEM = """
        -----BEGIN RSA PRIVATE KEY-----
        MIIJKQIBAAKCAgEAvS7ruztu3bfjOsuh6e91zfnOUicOI6jGSjLFBmcG2sNXWscp
        wxVyX3e32zRvvgJ75vO9tpicS8uCE7LrETNn61ClvTMMuWvkQ4i8abM/g0+PYgo2
        cc6YokUG+FWVErkwQ1Bvinxn/X5eM2m8cz9XWQalg+bkEIa19CDo+nZIt4a8zUwX
        Wo1ePnMkdYndH+kw68cxucFvdau3WkZd+d1jXLu/ZR+C7WZ9DaYD4KE/fJTCVloj
        CPfBeHNl1HkkVkUqHaPvY/dwmyN0WG4N0tyykXF7lrVv7SxGotqBR3ps7JMBNjmD
        bsNMy6Y94wxdbJykXt/cg7zLKuKRreV55wYnP2dsIHVDPRmZHHQDfOu9obhm5x0x
        uwRRggOzaoMaav2Vvh5JwjGxXMDkoQiefu/5VxgYG9KyS74Mn4/cnm8lK8UbL6Fr
        uTo61qe+xaD32OhaOzAJMsiX980RiJuWfPeTOEHS+Uxc7jCCE2OGpj+txQSYrrpg
        p/9dEfbdqDXI4gzBPsZn6C0BdasVQeeoLgO/vUa0nQ+W0wpiLca3YLxZxEXkLYWL
        JiDwMK/XiIFzpFrCzPxj9T1Y3zuRsSRE2Ff/PLh3Yt4vFV3M7gFcgLGz3MgEZQux
        Yu604OcZ4RN8nzE1tsPhKe6jJqwL++FfADvHwkg6xxImSUvrm8X63IFY8cECAwEA
        AQKCAgARsZ0/ljfwyb2ZZqk+mXRhrt8CpP94C1V8ZBI0XpdwB3wYk+8OfWeEkUxj
        Vpyq302aVKqmNNDNb/u6/u1oXu/1vMW7k9Y5U2N2g4fntOmYTO0ipMTh0QpKhv03
        Zb27EhH3AcNk5uzM8zA5S8bh2oc/XtVFKGelOgwziI5xunVjoNjwtJCsmfM6EQfU
        bG//h45ZRviaIILdtRFBgrpQX8nmxvKIMTHMJV1F1QSg0kP/UWR5shV7xbxVGSnp
        fOkOnoppWkdOCLsB74d2q9hkI9sZqkz+U/rjalQy8A/OUR914uvml+t4hRCeLW61
        WRc1zNK8wuA7fAFegfFRG9jSaCtsY+5pj94uFc8yclgly/rHZ9QHT7/7MiHrVoIV
        +Bg2d9YcSkvBYwtmqZEoF9iSAhwJYr8wk7DiHdDzVV1adCxW8XRapDw2DI1yVLDu
        ixbf9To96bK3CUcgOISKEQZ176r0g+p/BK73hoeKmebZsqVIvDAI0pbZJra+6lut
        TNaT8RArSAelMeR7Y+XZQPxhDQWPGR7xiCdbdZ3SqoKq5UZ1l7+7rDHypkjjbTd4
        dxiX/hla9wS40HKWaUmfTbuYoQyrCrqmaK0/vF62Z/TbOQ8ZaIyYLg0f83P3SnUD
        wjnz4iDTU1cs59KVt3jJgT3nivYUEieHLuXKaZsD9UvVP1MCZwKCAQEA6ph0/YaQ
        EZgnDYJYXSgJd8pWhpRB7Dk97xEGEcbnSkf0d+nGQfD0ag54hjTxo49WHs4VZOcx
        GB1U8auxe/m0AZNN0nMrnGNOjidg5VMQU0XwvONRUPT9k4y8mYR9zts0iIBmglhb
        GH1xbpzsbohyx3JJCBwRqFkG0JB5VMyv223v4APAxskxGKMXD0tCyKHnadVsRb65
        Mzb0lJZ6E9qc/ZsosvwiZuJ5+fBQqJHqlN9yFu5q5PTXmZGGh43PePiL0qgC9OBl
        kToBgXLSnGeLUwuKDx0O+DH6nJMzsG5J7Rzg4hUyGq2c3721zitVm17osh02Ilms
        VAEuLQjvVtoP1wKCAQEAznHAYWHsCNkf78MQNkTDTtCD0UMdv7GhDZRG0tcn5fuR
        SqgVjAZrGNf35QNhH86THo+9GBfAV+obONxhI8BbJG9B6BP1z1AiNTqfhEQzDvvP
        ftY+2s0pDvL4VtTqqvfdrmEsT4VkBkk0qNGaLhL9xRWmIovu4S3zFqgUG1C886eI
        xzzH4XDTujel3x+VyIzHnQLUsSpfrE5Qt3M5ZcMMYHl9nEzyzVj3QRxrYflBtfYF
        fd+hj0Y8eJbJ+TVRTpGT1Vi2v557m8X9vdxOwfEwFI6S/4gx8SCIQolB+kIYs/oz
        3iRqpANXDQqtfAlN/zYqn0IIs53daqCAQORJy3K4JwKCAQEAnvK1MaGes40XyLts
        C5I4+AUMIxsIn3kZUYWDS0AtLdMa/LRUNBGCSOmNF8F/h4Zyn2SackeCqAgXqbbf
        BlTldbvMmq6V+dv/OanMqRRil0loF1MdoXCc7wAIOSvf4ev76BC3Y9Fhx3IXDQ8d
        0rZ4rlHs0aXTAPFxAJci3iXhcRdH08w3LXjb3wmBckdX9IBePwLv3UGgUecGSDa8
        d/9DJ0Gdjcfvty3z3zjILa7P9hZ/QrI/kumhutczA10+GYStmAlmF2yC5Kccpgya
        ToaJi7bhz+OsZNXYK4ZBG2VeiV1rsUMTM6g2BhKPwCT0V9UybJwGNbf0XuZ91t2a
        7InK+QKCAQAYvY0enouY69xl8WyJ9GerlFWXyIFSLcltRS3PqrU/XIym88nRRBul
        mIw+x87l7u22pec1cfM9FfM5Nz/09uJ1VVgCphG5TJMs6d+gDERKMWdGfgp+UkPv
        ZLLaRR3ya04HzeFvjj7UegVzjdr6VpBPBC8qyLZSCh2tw2rVczGRyawcpG4X2Fun
        X2/jc3eR1z081dADg15/2crWkVp5lYxwK18gUiBu95B6HxvHXAXB9r/lu90yvGoW
        0YtW8ErULaIX2U/dWvLZUjr8e+B8YZkvfX6kXQAPM6TgxG5BvZYUS5HXt2mISlYu
        W+86hCrywN0OxO0iCXM1ihKUtEcbuJ3VAoIBAQCSMFUKrQ7afU3f9Sxga5JZU6EW
        9kvZnkrsVF+5mL1tLXqYrYupg7oRPXUmsPkUKNbWE5M84ygklJJsn3fbEFPicEK+
        534fF0zYsddr24qCR8PGlNFfK+pgbwXDb66+D2NhuNQBCV/tTq4of6S/HywRTlXq
        NwpXZmOVymMnLoq9t19CHoVJSE3HcSc6gTOKg2dBbUC2Pkyz01RYlRnhp5dtmoxD
        I34IuIZM7Orif7cqCaRluIhYTKAD4UOvxZhjenNjyE6h6xMatxe5bnXLQa4AYJca
        ilMm93/YzTQLaIZAsKvxVadmNcQXG9ZvtB21Q418l0Mt0xKcDcKHDx3U9/sd
        -----END RSA PRIVATE KEY-----
        """

    /// The mock ASK's key (PKCS#1 PEM). NOT AMD's: a published mock key.
    static let askPEM = """
        -----BEGIN RSA PRIVATE KEY-----
        MIIJJwIBAAKCAgEArxxZOYAW3+9QDgJd4k+YVWXomdeVOB68ddKJszSMXsJmUjJ4
        YvjC+CBilSjQb/aREU8ekGKxUr4uPyWVUzyAHMIk2s1lwMSVKj1iY/1n+RklCCUT
        WcydShC9hL3aCk9DAsaAXGJvpA1WY43HdPAZ06p3QD0hSKMH8glNkWuvBSFl0wr2
        bJtIQmXhUMlqBbJBj4LEqlEN7qMAeXZF9tNP+POk8J3HAEDwnupMseAFf5jGSYUi
        BSXZI0OEiqGayhUESL8BVcjJiyGkqnh3HEtHXQsTiBPU7Qn2NQQvf+FjIaD3yDSu
        QSNOMFUp/Lk5UlSILqQPsjXgniU2IxS/0F3OHwwvhzTIdadO0hmMyTtCKiAwirt7
        2KBl5Gcl8225fiCmHw/SarsrW+48K7otN0+OILxV5+Lfmejgk3RXtJUh4s2h7am0
        YbGuVm+UEHaRgFOHXWFkCrVIHWlgQNgPL1DS2l30T/jp+OVR/AEJAR0Ho1u7oXhp
        WODK2xVTrg+Yd5+WMWEF3UlKc185KimtapSxc+bmBIUiF5BFIFqRXiGNU3eoN07Z
        ANodiLDovmdL6nJU4bjTiCzLcZnn8r/3hLc09JfBZEncRt2db8paRJtfYkfP3Wuq
        pEVcSwI29DIsMmqS56bKRITV50YyO2180NUXqHQAimB0x63bwqNT9N8KiikCAwEA
        AQKCAf9gGq7dX+8t96l4BtR/4C86rzN5O1gp9LR59ZKdR7nCR+7gLdLkfqKCi0OP
        mVbMHAaB+WpM091+C+JVxcquZAXrwqF3dELkCP/UrtvRBMKLc8FfNvnnzuSEQavB
        rnB8OAQPAeJw0ZVz8931xVoyU5PZFzVbjDE4LEGwFGr95JuptSqtKNcVxCNkTYXb
        UK9fcPWKTbqhvtpmng8kmkTLsi2x9AYSCIWvHfTxQqXU+Z4K6U3qC6cgLCV/tQ6J
        ByhswBwZ0Lpq2kfClDRLWtIENUx1RB70D+5MKat2bVWkWY6OZkmXF1KLbVT8McFZ
        ck6DYOFct63loKwmH0YW+sxLDzCP76SVxFvaW/M04sPUhAlmkdn6Xh/RFulAz1Vv
        k9beRgJBnq1QFDWjNPy0cQxWq1Aa6iaF5Q8xCHGU8pOClQ94Aas5hIf0O9nFoTOb
        gAfAxJQfMhX5SUUbFnG5Rh/FM+Qv8ZbPbRZ8OJf4jaHgZ/vaxuNKCW8ZGkUS5e9W
        XQ819hRZUkqav2t9QjBA/h6678saY2tOKmnEpVA6fVoYQSgTIk8akbyyDgcogViE
        xwyQjTJ/IWCJ9wPOOGghduEZH9uIyUe0AbbYl8V9RDwRdHhtFJhCwvVH1OEUdH0X
        kAZBMv1HhtSPJIm5RvGHQEpq3mcpFZDVank7g9ImfKuUzVrbAoIBAQDt47vDCtGQ
        5U6aFXMuQxntRB8Cglf29cnccWRrJWsMfMcqjLb0DUOrOp4GklAn3eWXiCD1/mkc
        W7AYWGubqNK39HSwzJhD/H3p+2etfF7exD8jPHxK8iEQRUiSXU1o1OEJrwcLhhwU
        L2I8JdAhrav7UrHej30WqSATlaQi4RB4oZro0JtC7gn4slXMSHcRY/iCYtQkStZR
        3y0hFuAh5RtkdkJQeq2myycfzkQEIKmrR2K1ArrMjVOe7tPrIt1t8mjxvoEKcXcl
        FNGGGf1Bbvwp4YbFtcTISQytejjQEGAco+nEPHt4CfKY8IYPh7CFtpuIcAiMTBns
        ZhhglC4sc1TPAoIBAQC8cRvHeurAORvwfGirwi0ocVgxC2Mei7ionGyNdwU1LsFX
        RdMylCJva2TVw2OSANAjbVI7FA0Ztd/p1Isw6tlM//SIYeqnchAhblHeskctGPS/
        JIO3VFxED3hUjHMTbVH/872C/CqaVFuNIFu67CrUlIuGUAwB8gkMqKfmhvuc3FX3
        fy+7nKnCN4wQL7SMXrgZxG4sg498MylVku+vB0cIeX7H/xhc0nLQ3k5u45GtEQ1z
        MRArTgXdbuo5797aMduOqaA4R4yn68VfLImC3XvjlkH00UQV1l2brD9jt/DfQQYO
        FV9rXfbV8s2cPMph7UvN/816UWegkLHmJpkyQF+HAoIBAQDOFMkl0At4II4VQZvE
        afDd8HOEsvINSSQUSk8Z2xJ/gODw5XHgvlTu0xruynWR89LfkNgtAraAEJXeoUqn
        UHsrTSSBvNvzmZpixp4sVl/BT/T6S33JVzR5aevSj+1tcW15/Bx4STet7NaHEKLb
        ah5g3GSmT1un89+L18iXRq4EMsuGAKFgO+J7hdJ55BTyBc7U9VSeFA7SYiowTibg
        dh9iymfsXDpvEfLUxNV7VehmLrM96B128r+MIY2IV23Hv4ZWVhhnuZ/jicNxDras
        pr7gcTVVtX/BmjbXWdg5ttXsObtbeqHjfYqiH0ujzIKJc4YNjjB5ibuzZUac9AGE
        FG1VAoIBAEXbTGgDuhiuUxwwkoDxx9nRQtdTmFgPhdIDwv4iXCzd+1CGEwgSAD37
        uvK/rx7F7GLluPEruruIP8yoPT1SImI4FIemfN28HBy4j+MVhetC8CAXwjhpLpcQ
        gRQeyN4vzZEr41o2bvitQw8rKrY9rJcHxj1xWTIzboVh1HRSH96Dk97fKGvNZOUZ
        wHOTq8PJrUfoGMuprbxmHvGZOf9RnFSY7ZXojDiEz4l8j+jttehJhQnp60uSbfwr
        jOsTcDLE/taBLWMPqyXo8k8Y7JU11CKHZkYCedH6mNMH5Kvr2YB502vPIoNj3whr
        LSu5IXFyDYL9TEgG+3p7iWd/cZU+ZesCggEAPJX6afUdafCB8ZXh8lrs3yDlg5QN
        ++20Gi/aJjNV0n01toxbZo7tUKDJSZGhNx8oq0Eo5z8yVcGc3TmSF30xHQGnTXf4
        ijrtmXEzniwl4USYR26t4woO6h0Plbm/P2EMupd+/i20GSPe+mIRSbi7OIXEuS4n
        X9YXXpwGXnBcPaFFgoBZHrVYO3hpKzxBfMJWz6CQihZ3Ux6DA2hPgrdVUdbcOOXg
        FQKnH1TB9si7XoR9M9B7wj+QnBGF5GxjCKKHj52356Tc0R/8QxXjzP86GPPXzrKy
        dGdQgElA1/WazGIPw5e78qCBKV7B3rULlznWrxNYb4GId9CmiQrrYe781g==
        -----END RSA PRIVATE KEY-----
        """
}
