// Bundles src/render.jsx into build/render.js (git-ignored, never shipped).
import * as esbuild from 'esbuild';

await esbuild.build({
    entryPoints: ['src/render.jsx'],
    bundle: true,
    outfile: 'build/render.js',
    format: 'iife',
    platform: 'browser',
    target: 'chrome110',
    define: { 'process.env.NODE_ENV': '"production"', global: 'window' },
    loader: { '.js': 'jsx', '.svg': 'dataurl', '.png': 'dataurl', '.woff': 'dataurl', '.woff2': 'dataurl' },
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
});
