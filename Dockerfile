# vigil service image (used by docker-compose.yml on production hosts).
# Build stage: dev dependencies compile TypeScript; the runtime stage keeps production ones only.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
COPY detectors ./detectors
COPY bench ./bench
COPY pipelines ./pipelines
# `npm ci` runs `prepare` (the build) once the sources are in place.
RUN npm ci && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/pipelines ./pipelines
COPY --from=build /app/src/store/migrations ./src/store/migrations
# Keys made on first start (audit chain, generated secrets) live here: mount a volume.
RUN install -d -m 0700 -o node -g node /var/lib/vigil
ENV VIGIL_DATA_DIR=/var/lib/vigil
USER node
# 8088 gateway events, 8089 admin API (/readyz, /metrics, /clickhouse), 4318/4317 OTLP.
EXPOSE 8088 8089 4318 4317
ENTRYPOINT ["node", "--max-semi-space-size=64", "bin/vigil.js"]
CMD ["serve"]
