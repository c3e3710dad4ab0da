# Vigil image: one image for every node; SERVICES picks what a container runs.
#   docker build -t vigil .                            # detector nodes with a GPU: Dockerfile.gpu
#   docker run -p 3000:3000 vigil                      # embedded mode (PGlite under /app/data), prints a super-admin password
#   docker run -e SERVICES=api -e TRANSPORTER=nats://nats:4222 -e DATABASE_URL=... -e JWT_SECRET=... -e ENCRYPTION_KEY=... vigil
# NODE_ENV is left to the deployment: NODE_ENV=production makes JWT_SECRET and ENCRYPTION_KEY mandatory.

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
# Only what the build needs: no local data/, dist/ or node_modules/ from the build context.
COPY tsconfig.json tsconfig.build.json ./
COPY app ./app
COPY bin ./bin
COPY lib ./lib
COPY services ./services
COPY mixins ./mixins
COPY middlewares ./middlewares
COPY entities ./entities
COPY migrations ./migrations
COPY bench ./bench
# The dashboard's sources; `npm run build` builds them into dashboard/dist next to the backend's dist/.
COPY dashboard ./dashboard
RUN npm run build && npm prune --omit=dev && npm cache clean --force

FROM node:20-slim
WORKDIR /app
# Debian's ffmpeg and ffprobe, used in preference to the npm-bundled ones (lib/media/tools.ts): those are root-owned
# and executable by their owner only, so the `node` user could not run them and every upload would fail.
RUN apt-get update \
	&& apt-get install -y --no-install-recommends ffmpeg \
	&& rm -rf /var/lib/apt/lists/*
ENV FFMPEG_PATH=/usr/bin/ffmpeg FFPROBE_PATH=/usr/bin/ffprobe
# Code and dependencies belong to root (read-only to the app); only the embedded data directory is writable.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The built dashboard only (the gateway serves it at /); its sources and build tools stay in the build stage.
COPY --from=build /app/dashboard/dist ./dashboard/dist
# The bundled zero-config detector model (CenterNet COCO, MIT); DETECTOR_MODEL points elsewhere.
COPY models ./models
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
CMD ["node", "dist/bin/vigil.js", "start"]
