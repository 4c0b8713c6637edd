/* log.h - structured (one JSON object per line) error and access logs. */
#ifndef DANDI_LOG_H
#define DANDI_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void	log_open(const char *path, const char *program, enum log_level);
void	log_msg(enum log_level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void	log_access(const char *method, const char *uri, int status, long long bytes,
	    double seconds, const char *user);
enum log_level log_level_parse(const char *);

#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...)	log_msg(LOG_ERROR, __VA_ARGS__)

#endif
