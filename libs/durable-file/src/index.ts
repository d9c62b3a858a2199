export { appendDurably, rewriteDurably, fsyncDirectory, readJsonLines } from './durable-file';
