export { get as handler } from './registration.js';
