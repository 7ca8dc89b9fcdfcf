# Builds a static portal binary; the image holds only it and CA certificates.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/portal ./cmd/portal \
 && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/coreplus-sandbox ./cmd/coreplus-sandbox

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/portal /out/coreplus-sandbox /usr/local/bin/
ENV HOST=0.0.0.0 PORT=8080 DATA_DIR=/data
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/portal"]
