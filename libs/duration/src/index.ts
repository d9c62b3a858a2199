export { DURATION_PATTERN, parseDuration } from './duration';
