# One image holds every program and the nats-server, built from this
# module's pinned versions; docker-compose.yml picks the command.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ENV CGO_ENABLED=0
RUN go build -trimpath -ldflags="-s -w" -o /out/ ./services/... \
 && go build -trimpath -ldflags="-s -w" -o /out/nats-server github.com/nats-io/nats-server/v2 \
 && mkdir -p /data /auth

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ /usr/local/bin/
# Named volumes mounted on /data take this ownership, so JetStream can
# write there as the non-root user.
COPY --from=build --chown=65532:65532 /data /data
COPY --from=build --chown=65532:65532 /auth /auth
USER nonroot:nonroot
ENTRYPOINT []
# A container must listen on 0.0.0.0 to be reached through a published
# port, and the programs refuse that without credentials unless told
# --insecure: a local try-out. Its NATS stays on the container's loopback
# (no users configured); compose gives NATS users instead. Give it keys or JWTs (README, "Running it
# securely") to run it anywhere else.
CMD ["/usr/local/bin/inventory", "--http-addr", "0.0.0.0:9091", "--nats-listen", "127.0.0.1:4222", "--data-dir", "/data", "--insecure"]
