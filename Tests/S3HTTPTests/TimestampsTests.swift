// The time formats S3 uses, against known instants.

import Testing

@testable import S3HTTP

struct TimestampsTests {
    @Test func formatsAmzDate() {
        #expect(Timestamps.amzDate(epochSeconds: 1_440_938_160) == "20150830T123600Z")
        #expect(Timestamps.amzDate(epochSeconds: 1_369_353_600) == "20130524T000000Z")
        #expect(Timestamps.amzDate(epochSeconds: 951_782_399) == "20000228T235959Z")
        #expect(Timestamps.amzDate(epochSeconds: 0) == "19700101T000000Z")
    }

    @Test func parsesISO8601() {
        #expect(Timestamps.parseISO8601("2009-10-12T17:50:30.000Z") == 1_255_369_830)
        #expect(Timestamps.parseISO8601("2024-02-29T23:59:59.125Z") == 1_709_251_199.125)
        #expect(Timestamps.parseISO8601("2020-01-01T00:00:00Z") == 1_577_836_800)
        for bad in ["", "2020-01-01", "2020-13-01T00:00:00Z", "2020-01-01T00:00:00.Z", "2020-01-01T00:00:00+01:00"] {
            #expect(Timestamps.parseISO8601(bad) == nil, "\(bad)")
        }
    }

    @Test func parsesRFC1123() {
        #expect(Timestamps.parseRFC1123("Mon, 12 Oct 2009 17:50:30 GMT") == 1_255_369_830)
        #expect(Timestamps.parseRFC1123("Thu, 29 Feb 2024 23:59:59 GMT") == 1_709_251_199)
        for bad in [
            "", "12 Oct 2009 17:50:30 GMT", "Mon, 12 Foo 2009 17:50:30 GMT", "Mon, 12 Oct 2009 17:50 GMT",
            // Years that would overflow the day arithmetic (a trap, before the year was bounded).
            "Mon, 12 Oct 9223372036854775807 17:50:30 GMT", "Mon, 12 Oct -9223372036854775807 17:50:30 GMT",
            "Mon, 12 Oct 10000 17:50:30 GMT", "Mon, 99 Oct 2009 17:50:30 GMT",
        ] {
            #expect(Timestamps.parseRFC1123(bad) == nil, "\(bad)")
        }
    }
}
