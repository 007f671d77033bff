# vigil service image (used by docker-compose.yml on production hosts).
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
COPY detectors ./detectors
COPY pipelines ./pipelines
RUN npm ci && npm prune --omit=dev
USER node
ENV VIGIL_DATA_DIR=/tmp/vigil
ENTRYPOINT ["node", "bin/vigil.js"]
EXPOSE 8088 8089
