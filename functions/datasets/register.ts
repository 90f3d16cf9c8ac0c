export { post as handler } from './registration.js';
