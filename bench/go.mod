module github.com/relayapi/relayapi/bench

go 1.26.8
