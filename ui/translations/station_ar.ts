<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ar" sourcelanguage="en">
<context>
    <name>Blocker</name>
    <message>
        <source>Log in to test packs.</source>
        <translation>سجّل الدخول لاختبار البطاريات.</translation>
    </message>
    <message>
        <source>A test is running.</source>
        <translation>يجري اختبار الآن.</translation>
    </message>
    <message>
        <source>This serial number has the wrong format. Scan again.</source>
        <translation>صيغة الرقم التسلسلي غير صحيحة. امسح مرة أخرى.</translation>
    </message>
    <message>
        <source>Choose the variant.</source>
        <translation>اختر الطراز.</translation>
    </message>
    <message>
        <source>Close the door / release the e-stop.</source>
        <translation>أغلق الباب / حرّر زر الطوارئ.</translation>
    </message>
    <message>
        <source>An instrument is missing. Call an engineer.</source>
        <translation>جهاز قياس مفقود. اتصل بمهندس.</translation>
    </message>
    <message>
        <source>An instrument&apos;s calibration has expired. Call an engineer.</source>
        <translation>انتهت صلاحية معايرة جهاز قياس. اتصل بمهندس.</translation>
    </message>
    <message>
        <source>The test files are not released. Call an engineer.</source>
        <translation>ملفات الاختبار غير معتمدة. اتصل بمهندس.</translation>
    </message>
    <message>
        <source>The production mode was changed outside the station. Call an engineer.</source>
        <translation>تم تغيير وضع الإنتاج خارج المحطة. اتصل بمهندس.</translation>
    </message>
    <message>
        <source>The last test could not confirm the sources off. Do not touch the pack; call an engineer.</source>
        <translation>لم يتمكن الاختبار الأخير من تأكيد إطفاء المصادر. لا تلمس البطارية؛ اتصل بمهندس.</translation>
    </message>
    <message>
        <source>The results disk is full. Call an engineer.</source>
        <translation>قرص النتائج ممتلئ. اتصل بمهندس.</translation>
    </message>
    <message>
        <source>This pack cannot be retested now. Call a supervisor.</source>
        <translation>لا يمكن إعادة اختبار هذه البطارية الآن. اتصل بالمشرف.</translation>
    </message>
    <message>
        <source>Today&apos;s master packs are not verified yet.</source>
        <translation>لم يتم التحقق من بطاريات المرجع لهذا اليوم بعد.</translation>
    </message>
    <message>
        <source>The MES refuses this pack. Call an engineer.</source>
        <translation>نظام MES يرفض هذه البطارية. اتصل بمهندس.</translation>
    </message>
    <message>
        <source>A step asks more than an instrument can give. Call an engineer.</source>
        <translation>خطوة تطلب أكثر مما يستطيع جهاز القياس. اتصل بمهندس.</translation>
    </message>
    <message>
        <source>The test cannot start. The reason is in the details.</source>
        <translation>لا يمكن بدء الاختبار. السبب في التفاصيل.</translation>
    </message>
</context>
<context>
    <name>Column</name>
    <message>
        <source>When</source>
        <translation>الوقت</translation>
    </message>
    <message>
        <source>User</source>
        <translation>المستخدم</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>الإجراء</translation>
    </message>
    <message>
        <source>Target</source>
        <translation>الهدف</translation>
    </message>
    <message>
        <source>Detail</source>
        <translation>التفاصيل</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>النوع</translation>
    </message>
    <message>
        <source>File</source>
        <translation>الملف</translation>
    </message>
    <message>
        <source>Name / version</source>
        <translation>الاسم / الإصدار</translation>
    </message>
    <message>
        <source>sha256</source>
        <translation>sha256</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>الحالة</translation>
    </message>
    <message>
        <source>By</source>
        <translation>بواسطة</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>ملاحظة</translation>
    </message>
    <message>
        <source>Revoked</source>
        <translation>ملغى</translation>
    </message>
    <message>
        <source>Blocks the start</source>
        <translation>يمنع البدء</translation>
    </message>
    <message>
        <source>Override</source>
        <translation>استثناء</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>الدور</translation>
    </message>
    <message>
        <source>Created</source>
        <translation>أُنشئ</translation>
    </message>
    <message>
        <source>Login</source>
        <translation>الدخول</translation>
    </message>
    <message>
        <source>Fault</source>
        <translation>العطل</translation>
    </message>
    <message>
        <source>Magnitude</source>
        <translation>المقدار</translation>
    </message>
    <message>
        <source>Default</source>
        <translation>الافتراضي</translation>
    </message>
    <message>
        <source>What it does</source>
        <translation>ما يفعله</translation>
    </message>
    <message>
        <source>Instrument</source>
        <translation>جهاز القياس</translation>
    </message>
    <message>
        <source>Calibration</source>
        <translation>المعايرة</translation>
    </message>
    <message>
        <source>Started</source>
        <translation>البدء</translation>
    </message>
    <message>
        <source>Serial</source>
        <translation>الرقم التسلسلي</translation>
    </message>
    <message>
        <source>Variant</source>
        <translation>الطراز</translation>
    </message>
    <message>
        <source>Verdict</source>
        <translation>النتيجة</translation>
    </message>
    <message>
        <source>Operator</source>
        <translation>المشغّل</translation>
    </message>
    <message>
        <source>Sequence</source>
        <translation>التسلسل</translation>
    </message>
    <message>
        <source>#</source>
        <translation>#</translation>
    </message>
    <message>
        <source>Group</source>
        <translation>المجموعة</translation>
    </message>
    <message>
        <source>Step</source>
        <translation>الخطوة</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>النوع</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>النتيجة</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>الوقت</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>الخطأ</translation>
    </message>
    <message>
        <source>Measurement</source>
        <translation>القياس</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>القيمة</translation>
    </message>
    <message>
        <source>Limits</source>
        <translation>الحدود</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>الاسم</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>الحجم</translation>
    </message>
    <message>
        <source>Path</source>
        <translation>المسار</translation>
    </message>
    <message>
        <source>Level</source>
        <translation>المستوى</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>الرسالة</translation>
    </message>
</context>
<context>
    <name>HealthPanel</name>
    <message>
        <source>✔ OK</source>
        <translation>✔ سليم</translation>
    </message>
    <message>
        <source>! due soon</source>
        <translation>! يستحق قريبًا</translation>
    </message>
    <message>
        <source>✖ EXPIRED</source>
        <translation>✖ منتهي</translation>
    </message>
    <message>
        <source>! override</source>
        <translation>! استثناء</translation>
    </message>
    <message>
        <source>✖ MISSING</source>
        <translation>✖ مفقود</translation>
    </message>
    <message>
        <source>{n} days left</source>
        <translation>متبقٍ {n} يوم</translation>
    </message>
    <message>
        <source>{n} days OVERDUE</source>
        <translation>متأخر {n} يوم</translation>
    </message>
    <message>
        <source>due {date}</source>
        <translation>الاستحقاق {date}</translation>
    </message>
    <message>
        <source>Station health</source>
        <translation>حالة المحطة</translation>
    </message>
    <message>
        <source>Interlocks: {state}</source>
        <translation>الأقفال الأمنية: {state}</translation>
    </message>
    <message>
        <source>Mode: PRODUCTION (released files only)</source>
        <translation>الوضع: إنتاج (الملفات المعتمدة فقط)</translation>
    </message>
    <message>
        <source>Mode: ENGINEERING</source>
        <translation>الوضع: هندسي</translation>
    </message>
    <message>
        <source>Sequence: {sequence}</source>
        <translation>التسلسل: {sequence}</translation>
    </message>
    <message>
        <source>Masters verified today</source>
        <translation>تم التحقق من المراجع اليوم</translation>
    </message>
    <message>
        <source>Masters NOT verified today</source>
        <translation>لم يتم التحقق من المراجع اليوم</translation>
    </message>
</context>
<context>
    <name>LoginPage</name>
    <message>
        <source>Create the first administrator</source>
        <translation>إنشاء أول مسؤول</translation>
    </message>
    <message>
        <source>This station has no users yet. The first account is an administrator, who then adds operators and engineers.</source>
        <translation>لا يوجد مستخدمون في هذه المحطة بعد. الحساب الأول مسؤول، ثم يضيف المشغّلين والمهندسين.</translation>
    </message>
    <message>
        <source>Log in — {station}</source>
        <translation>تسجيل الدخول — {station}</translation>
    </message>
    <message>
        <source>Operators test packs; engineers and admins also browse results and release files.</source>
        <translation>المشغّلون يختبرون البطاريات؛ المهندسون والمسؤولون يتصفحون النتائج ويعتمدون الملفات أيضًا.</translation>
    </message>
    <message>
        <source>User</source>
        <translation>المستخدم</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>كلمة المرور</translation>
    </message>
    <message>
        <source>Repeat password</source>
        <translation>أعد كلمة المرور</translation>
    </message>
    <message>
        <source>CREATE AND LOG IN</source>
        <translation>إنشاء وتسجيل الدخول</translation>
    </message>
    <message>
        <source>LOG IN</source>
        <translation>تسجيل الدخول</translation>
    </message>
    <message>
        <source>logged out after a period without input</source>
        <translation>تم تسجيل الخروج بعد فترة دون استخدام</translation>
    </message>
    <message>
        <source>the two passwords differ</source>
        <translation>كلمتا المرور مختلفتان</translation>
    </message>
    <message>
        <source>wrong user name or password (or the account is disabled)</source>
        <translation>اسم المستخدم أو كلمة المرور غير صحيحة (أو الحساب معطّل)</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>EOL station {station} — {sequence}</source>
        <translation>محطة EOL {station} — {sequence}</translation>
    </message>
    <message>
        <source>Station {station}</source>
        <translation>المحطة {station}</translation>
    </message>
    <message>
        <source>Log out</source>
        <translation>تسجيل الخروج</translation>
    </message>
    <message>
        <source>Test</source>
        <translation>الاختبار</translation>
    </message>
    <message>
        <source>Results</source>
        <translation>النتائج</translation>
    </message>
    <message>
        <source>Engineering</source>
        <translation>الهندسة</translation>
    </message>
    <message>
        <source>Audit trail</source>
        <translation>سجل التدقيق</translation>
    </message>
    <message>
        <source>not logged in</source>
        <translation>لم يسجَّل الدخول</translation>
    </message>
    <message>
        <source>In kiosk mode only an engineer may close the station window.</source>
        <translation>في وضع الكشك، يغلق نافذة المحطة مهندس فقط.</translation>
    </message>
</context>
<context>
    <name>OperatorScreen</name>
    <message>
        <source>scan the pack&apos;s serial number</source>
        <translation>امسح الرقم التسلسلي للبطارية</translation>
    </message>
    <message>
        <source>— choose variant —</source>
        <translation>— اختر الطراز —</translation>
    </message>
    <message>
        <source>START</source>
        <translation>ابدأ</translation>
    </message>
    <message>
        <source>ABORT</source>
        <translation>إيقاف</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>التفاصيل</translation>
    </message>
    <message>
        <source>Abort this test? Cleanup runs and every source is switched off.</source>
        <translation>إيقاف هذا الاختبار؟ يتم تنفيذ التنظيف وإطفاء كل المصادر.</translation>
    </message>
    <message>
        <source>YES, ABORT</source>
        <translation>نعم، أوقف</translation>
    </message>
    <message>
        <source>NO, CONTINUE</source>
        <translation>لا، تابع</translation>
    </message>
    <message>
        <source>TEST AGAIN</source>
        <translation>أعد الاختبار</translation>
    </message>
    <message>
        <source>CANCEL</source>
        <translation>إلغاء</translation>
    </message>
    <message>
        <source>Serial</source>
        <translation>الرقم التسلسلي</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>الخطوات</translation>
    </message>
    <message>
        <source>Measurements</source>
        <translation>القياسات</translation>
    </message>
    <message>
        <source>Press START to test {serial}</source>
        <translation>اضغط ابدأ لاختبار {serial}</translation>
    </message>
    <message>
        <source>{serial} was tested before. Test it again?</source>
        <translation>تم اختبار {serial} من قبل. هل تعيد اختباره؟</translation>
    </message>
    <message>
        <source>Scanned {serial} — it replaces {previous}. </source>
        <translation>تم مسح {serial} — يحل محل {previous}. </translation>
    </message>
    <message>
        <source>starting {serial} …</source>
        <translation>بدء {serial} …</translation>
    </message>
    <message>
        <source>ABORTING …</source>
        <translation>جارٍ الإيقاف …</translation>
    </message>
    <message>
        <source>cleanup runs; every source is being switched off</source>
        <translation>التنظيف جارٍ؛ يتم إطفاء كل المصادر</translation>
    </message>
    <message>
        <source>RUNNING step {k} of {n}</source>
        <translation>جارٍ الخطوة {k} من {n}</translation>
    </message>
    <message>
        <source>{time} left</source>
        <translation>متبقٍ {time}</translation>
    </message>
    <message>
        <source>{error} — call an engineer</source>
        <translation>{error} — اتصل بمهندس</translation>
    </message>
</context>
<context>
    <name>Outcome</name>
    <message>
        <source>{word} (marginal)</source>
        <translation>{word} (على الحد)</translation>
    </message>
    <message>
        <source>✔ PASS</source>
        <translation>✔ ناجح</translation>
    </message>
    <message>
        <source>✖ FAIL</source>
        <translation>✖ راسب</translation>
    </message>
    <message>
        <source>⚠ ERROR</source>
        <translation>⚠ خطأ</translation>
    </message>
    <message>
        <source>■ ABORTED</source>
        <translation>■ أُوقف</translation>
    </message>
    <message>
        <source>■ STOPPED</source>
        <translation>■ توقف</translation>
    </message>
    <message>
        <source>– skipped</source>
        <translation>– تم تخطيها</translation>
    </message>
    <message>
        <source>recorded</source>
        <translation>مسجَّل</translation>
    </message>
    <message>
        <source>▶ running</source>
        <translation>▶ جارٍ</translation>
    </message>
    <message>
        <source>– not run</source>
        <translation>– لم تُنفَّذ</translation>
    </message>
    <message>
        <source>■ INTERRUPTED</source>
        <translation>■ انقطع</translation>
    </message>
</context>
<context>
    <name>PromptPanel</name>
    <message>
        <source>OPERATOR ACTION</source>
        <translation>إجراء المشغّل</translation>
    </message>
    <message>
        <source>Type or scan the answer, then press OK.</source>
        <translation>اكتب الإجابة أو امسحها، ثم اضغط موافق.</translation>
    </message>
    <message>
        <source>Scan the barcode (or type it), then press OK.</source>
        <translation>امسح الرمز الشريطي (أو اكتبه)، ثم اضغط موافق.</translation>
    </message>
    <message>
        <source>(picture {image} not found)</source>
        <translation>(الصورة {image} غير موجودة)</translation>
    </message>
    <message>
        <source>YES</source>
        <translation>نعم</translation>
    </message>
    <message>
        <source>NO</source>
        <translation>لا</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>موافق</translation>
    </message>
    <message>
        <source>OK, DONE</source>
        <translation>موافق، تم</translation>
    </message>
    <message>
        <source>Enter a number from {low} to {high}.</source>
        <translation>أدخل رقمًا من {low} إلى {high}.</translation>
    </message>
    <message>
        <source>Enter a number of at least {low}.</source>
        <translation>أدخل رقمًا لا يقل عن {low}.</translation>
    </message>
    <message>
        <source>Enter a number of at most {high}.</source>
        <translation>أدخل رقمًا لا يزيد عن {high}.</translation>
    </message>
    <message>
        <source>Enter a number.</source>
        <translation>أدخل رقمًا.</translation>
    </message>
    <message>
        <source>{text} is not a number.</source>
        <translation>{text} ليس رقمًا.</translation>
    </message>
    <message>
        <source>{text} is out of range.</source>
        <translation>{text} خارج النطاق.</translation>
    </message>
    <message>
        <source>Enter an answer.</source>
        <translation>أدخل إجابة.</translation>
    </message>
    <message>
        <source>{text} does not have the expected format ({pattern}).</source>
        <translation>{text} ليس بالصيغة المتوقعة ({pattern}).</translation>
    </message>
</context>
<context>
    <name>RunView</name>
    <message>
        <source>{word} (attempt {n})</source>
        <translation>{word} (المحاولة {n})</translation>
    </message>
    <message>
        <source>Scan the next pack</source>
        <translation>امسح البطارية التالية</translation>
    </message>
    <message>
        <source>Last test ({serial}) ABORTED by the operator — sources off and verified safe. Scan the next pack.</source>
        <translation>الاختبار الأخير ({serial}) أوقفه المشغّل — المصادر مطفأة وتم التحقق من سلامتها. امسح البطارية التالية.</translation>
    </message>
    <message>
        <source>a step failed</source>
        <translation>فشلت خطوة</translation>
    </message>
    <message>
        <source>   (+{n} more, listed below)</source>
        <translation>   (+{n} أخرى، مدرجة أدناه)</translation>
    </message>
    <message>
        <source>SAFE STATE NOT CONFIRMED</source>
        <translation>الوضع الآمن غير مؤكد</translation>
    </message>
    <message>
        <source>Do not touch the pack. {detail}. Call an engineer.</source>
        <translation>لا تلمس البطارية. {detail}. اتصل بمهندس.</translation>
    </message>
    <message>
        <source>Do not touch the pack: cleanup did not finish ({problem}). Call an engineer.</source>
        <translation>لا تلمس البطارية: لم يكتمل التنظيف ({problem}). اتصل بمهندس.</translation>
    </message>
    <message>
        <source>{pack} · every measurement within limits</source>
        <translation>{pack} · كل القياسات ضمن الحدود</translation>
    </message>
    <message>
        <source>see the log</source>
        <translation>راجع السجل</translation>
    </message>
    <message>
        <source>{where} — a station problem, not the pack; call an engineer</source>
        <translation>{where} — مشكلة في المحطة وليست في البطارية؛ اتصل بمهندس</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>توقف</translation>
    </message>
    <message>
        <source>{pack} · {reason} · sources off and verified safe</source>
        <translation>{pack} · {reason} · المصادر مطفأة وتم التحقق من سلامتها</translation>
    </message>
    <message>
        <source> and {n} more</source>
        <translation> و{n} أخرى</translation>
    </message>
    <message>
        <source>cells {numbers}</source>
        <translation>الخلايا {numbers}</translation>
    </message>
    <message>
        <source>elements {numbers}</source>
        <translation>العناصر {numbers}</translation>
    </message>
    <message>
        <source>cell {numbers}</source>
        <translation>الخلية {numbers}</translation>
    </message>
    <message>
        <source>element {numbers}</source>
        <translation>العنصر {numbers}</translation>
    </message>
    <message>
        <source>limits {limits}</source>
        <translation>الحدود {limits}</translation>
    </message>
</context>
<context>
    <name>ShiftPanel</name>
    <message>
        <source>Tested</source>
        <translation>تم اختبارها</translation>
    </message>
    <message>
        <source>Passed</source>
        <translation>ناجحة</translation>
    </message>
    <message>
        <source>First-pass yield</source>
        <translation>نسبة النجاح من أول مرة</translation>
    </message>
    <message>
        <source>This shift</source>
        <translation>هذه الوردية</translation>
    </message>
    <message>
        <source>Last packs</source>
        <translation>آخر البطاريات</translation>
    </message>
</context>
<context>
    <name>State</name>
    <message>
        <source>READY</source>
        <translation>جاهز</translation>
    </message>
    <message>
        <source>RUNNING</source>
        <translation>جارٍ</translation>
    </message>
    <message>
        <source>ABORTING</source>
        <translation>جارٍ الإيقاف</translation>
    </message>
    <message>
        <source>PASS</source>
        <translation>ناجح</translation>
    </message>
    <message>
        <source>FAIL</source>
        <translation>راسب</translation>
    </message>
    <message>
        <source>ERROR</source>
        <translation>خطأ</translation>
    </message>
    <message>
        <source>ABORTED</source>
        <translation>أُوقف</translation>
    </message>
    <message>
        <source>STOPPED</source>
        <translation>توقف</translation>
    </message>
    <message>
        <source>CANNOT START</source>
        <translation>لا يمكن البدء</translation>
    </message>
</context>
</TS>
