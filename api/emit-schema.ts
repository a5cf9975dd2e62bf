/**
 * Prints the GraphQL SDL of the schema every node serves (for codegen and review).
 * Usage: node dist/api/emit-schema.js [out.graphql]
 */
import { writeFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { buildEnsembleSchema } from './schema.js';

const sdl = `${printSchema(await buildEnsembleSchema())}\n`;
const out = process.argv[2];
if (out) writeFileSync(out, sdl);
else process.stdout.write(sdl);
