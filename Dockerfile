# RecSys: multi-stage build. Mirrors scripts/setup + scripts/run: build with the SDK, run on the ASP.NET runtime.
# Native pieces that later modules load (librdkafka from Debian, libonnxruntime from the pinned npm package) are
# installed by the same commands the scripts use, in the stage that needs them.

FROM mcr.microsoft.com/dotnet/sdk:10.0-bookworm-slim AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props NuGet.config RecSys.sln appsettings.json ./
# The librdkafka.redist placeholder must be in the local feed before restore (as in scripts/setup).
COPY packaging/ packaging/
RUN mkdir -p .local-feed && dotnet pack packaging/librdkafka.redist -o .local-feed -nologo -v quiet
COPY RecSys.Api/RecSys.Api.csproj RecSys.Api/
COPY RecSys.Modules/RecSys.Modules.csproj RecSys.Modules/
RUN dotnet restore RecSys.Api/RecSys.Api.csproj
# ONNX Runtime's native library: the same pinned npm package and sha256 check as ./scripts/setup (native_onnxruntime);
# the build copies it beside the published binaries.
COPY scripts/ scripts/
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends npm >/dev/null && rm -rf /var/lib/apt/lists/* \
 && bash -c 'source scripts/setup && native_onnxruntime'
COPY RecSys.Api/ RecSys.Api/
COPY RecSys.Modules/ RecSys.Modules/
# The numbered migrations are embedded into the assembly from ../sql (the migrate verb reads them from there).
COPY sql/ sql/
RUN dotnet publish RecSys.Api/RecSys.Api.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0-bookworm-slim AS runtime
# Confluent.Kafka loads the operating system's librdkafka (librdkafka-dev provides the librdkafka.so it looks for).
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends librdkafka1 librdkafka-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app ./
COPY models/ ./models/
ENV ASPNETCORE_URLS=http://0.0.0.0:5080 \
    DOTNET_gcServer=1
EXPOSE 5080
# Probes: GET /health/live and GET /health/ready (ready once the catalog, vectors and online store are loaded).
ENTRYPOINT ["dotnet", "RecSys.Api.dll", "serve"]
